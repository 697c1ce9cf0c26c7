/*!
Phylogenetic trees in Newick format, stored as an arena ready for UniFrac.

Accepted: quoted labels (`'a b'`, with `''` for a quote), unquoted labels (underscores are kept
as they are, unlike scikit-bio's default, so tips match feature ids that contain `_`), internal
labels such as `1.000.2` (support values written by Greengenes), branch lengths in any float
notation, `[comments]` anywhere, whitespace and newlines between tokens, and a missing final
`;`. Errors give the line and column of the offending character.
*/

use crate::error::{Error, Location, Result};
use std::collections::HashMap;

/// One node: its parent, children (in file order), label and branch length to the parent.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub name: Option<String>,
    pub length: Option<f64>,
}

/// A rooted tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    nodes: Vec<Node>,
    root: usize,
}

impl Tree {
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    pub fn root(&self) -> usize {
        self.root
    }
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
    pub fn is_tip(&self, node: usize) -> bool {
        self.nodes[node].children.is_empty()
    }

    /// Nodes in post-order (children before parents, root last), without recursion.
    pub fn postorder(&self) -> Vec<usize> {
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut stack = vec![(self.root, false)];
        while let Some((node, expanded)) = stack.pop() {
            if expanded {
                order.push(node);
            } else {
                stack.push((node, true));
                for &c in self.nodes[node].children.iter().rev() {
                    stack.push((c, false));
                }
            }
        }
        order
    }

    /// Tip names and their node indices; duplicate tip names are an error.
    pub fn tip_index(&self, origin: &Location) -> Result<HashMap<&str, usize>> {
        let mut index = HashMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if node.children.is_empty()
                && let Some(name) = &node.name
                && index.insert(name.as_str(), i).is_some()
            {
                return Err(Error::invalid(
                    origin,
                    format!("the tree has two tips named '{name}'"),
                ));
            }
        }
        Ok(index)
    }

    /// The branch length of a node, 0 where none was written.
    pub fn length(&self, node: usize) -> f64 {
        self.nodes[node].length.unwrap_or(0.0)
    }
}

struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
    column: usize,
    origin: &'a Location,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }
    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }
    fn error(&self, message: impl Into<String>) -> Error {
        Error::syntax(
            &self.origin.at_line(self.line),
            format!("column {}: {}", self.column, message.into()),
        )
    }
    /// Skips whitespace and `[comments]`.
    fn skip_blank(&mut self) -> Result<()> {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.bump();
            } else if c == b'[' {
                let (line, column) = (self.line, self.column);
                while let Some(c) = self.bump() {
                    if c == b']' {
                        break;
                    }
                }
                if self.text.get(self.pos - 1) != Some(&b']') {
                    return Err(Error::syntax(
                        &self.origin.at_line(line),
                        format!("column {column}: comment '[' is never closed"),
                    ));
                }
            } else {
                break;
            }
        }
        Ok(())
    }
    fn label(&mut self) -> Result<String> {
        if self.peek() == Some(b'\'') {
            let (line, column) = (self.line, self.column);
            self.bump();
            let mut out = Vec::new();
            loop {
                match self.bump() {
                    None => {
                        return Err(Error::syntax(
                            &self.origin.at_line(line),
                            format!("column {column}: quoted label is never closed"),
                        ));
                    }
                    Some(b'\'') if self.peek() == Some(b'\'') => {
                        self.bump();
                        out.push(b'\'');
                    }
                    Some(b'\'') => break,
                    Some(c) => out.push(c),
                }
            }
            return String::from_utf8(out).map_err(|_| self.error("label is not valid UTF-8"));
        }
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(c, b'(' | b')' | b',' | b':' | b';' | b'[') || c.is_ascii_whitespace() {
                break;
            }
            self.bump();
        }
        String::from_utf8(self.text[start..self.pos].to_vec())
            .map_err(|_| self.error("label is not valid UTF-8"))
    }
}

/// Parses a Newick string.
pub fn parse_newick(text: &str, origin: &Location) -> Result<Tree> {
    let mut cur = Cursor {
        text: text.trim_start_matches('\u{feff}').as_bytes(),
        pos: 0,
        line: 1,
        column: 1,
        origin,
    };
    let mut nodes: Vec<Node> = Vec::new();
    let mut open: Vec<(usize, usize, usize)> = Vec::new(); // node, line, column of '('
    let mut last: Option<usize> = None;
    let mut finished = false;
    let new_node = |nodes: &mut Vec<Node>, parent: Option<usize>| -> usize {
        let id = nodes.len();
        nodes.push(Node {
            parent,
            children: Vec::new(),
            name: None,
            length: None,
        });
        if let Some(p) = parent {
            nodes[p].children.push(id);
        }
        id
    };
    loop {
        cur.skip_blank()?;
        let Some(c) = cur.peek() else { break };
        if finished {
            return Err(cur.error(format!("unexpected '{}' after the closing ';'", c as char)));
        }
        match c {
            b'(' => {
                if last.is_some() || (open.is_empty() && !nodes.is_empty()) {
                    return Err(cur.error("unexpected '(': a subtree must follow '(' or ','"));
                }
                let parent = open.last().map(|o| o.0);
                let n = new_node(&mut nodes, parent);
                open.push((n, cur.line, cur.column));
                cur.bump();
            }
            b',' => {
                let Some(&(parent, _, _)) = open.last() else {
                    return Err(cur.error("',' outside parentheses (unbalanced parentheses?)"));
                };
                if last.is_none() {
                    new_node(&mut nodes, Some(parent));
                }
                last = None;
                cur.bump();
            }
            b')' => {
                let Some((n, _, _)) = open.pop() else {
                    return Err(cur.error("unbalanced parentheses: ')' has no matching '('"));
                };
                if last.is_none() {
                    new_node(&mut nodes, Some(n));
                }
                last = Some(n);
                cur.bump();
            }
            b':' => {
                cur.bump();
                cur.skip_blank()?;
                let target = match last {
                    Some(n) => n,
                    None => {
                        let parent = open.last().map(|o| o.0);
                        let n = new_node(&mut nodes, parent);
                        last = Some(n);
                        n
                    }
                };
                let start = cur.pos;
                while let Some(c) = cur.peek() {
                    if matches!(c, b',' | b')' | b'(' | b';' | b'[' | b':')
                        || c.is_ascii_whitespace()
                    {
                        break;
                    }
                    cur.bump();
                }
                let number = std::str::from_utf8(&cur.text[start..cur.pos]).unwrap_or("");
                let value: f64 = number
                    .parse()
                    .map_err(|_| cur.error(format!("branch length '{number}' is not a number")))?;
                if !value.is_finite() {
                    return Err(cur.error("branch length is not finite"));
                }
                if nodes[target].length.is_some() {
                    return Err(cur.error("a node has two branch lengths"));
                }
                nodes[target].length = Some(value);
            }
            b';' => {
                if let Some(&(_, line, column)) = open.last() {
                    return Err(Error::syntax(
                        &origin.at_line(line),
                        format!(
                            "column {column}: unbalanced parentheses: this '(' is never closed before ';'"
                        ),
                    ));
                }
                finished = true;
                cur.bump();
            }
            _ => {
                let label = cur.label()?;
                match last {
                    Some(n) if nodes[n].name.is_none() && nodes[n].length.is_none() => {
                        nodes[n].name = Some(label)
                    }
                    Some(_) => {
                        return Err(
                            cur.error(format!("unexpected label '{label}' (missing ',' ?)"))
                        );
                    }
                    None => {
                        if open.is_empty() && !nodes.is_empty() {
                            return Err(
                                cur.error(format!("unexpected label '{label}' outside the tree"))
                            );
                        }
                        let parent = open.last().map(|o| o.0);
                        let n = new_node(&mut nodes, parent);
                        nodes[n].name = Some(label);
                        last = Some(n);
                    }
                }
            }
        }
    }
    if let Some(&(_, line, column)) = open.last() {
        return Err(Error::syntax(
            &origin.at_line(line),
            format!("column {column}: unbalanced parentheses: this '(' is never closed"),
        ));
    }
    if nodes.is_empty() {
        return Err(Error::syntax(
            origin,
            "empty Newick text, expected a tree such as '(a:1,b:2);'",
        ));
    }
    Ok(Tree { nodes, root: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lengths_internal_labels_quotes_comments() {
        let t = parse_newick(
            "((a:1,'b c':2.5)1.000.2:0.5[support],d:3e-1)root;",
            &Location::named("t.nwk"),
        )
        .expect("valid");
        assert_eq!(t.len(), 5);
        let root = &t.nodes()[t.root()];
        assert_eq!(root.name.as_deref(), Some("root"));
        assert_eq!(root.children.len(), 2);
        let inner = &t.nodes()[root.children[0]];
        assert_eq!(inner.name.as_deref(), Some("1.000.2"));
        assert_eq!(inner.length, Some(0.5));
        let tips = t.tip_index(&Location::named("t")).expect("unique");
        assert_eq!(t.length(tips["b c"]), 2.5);
        assert_eq!(t.length(tips["d"]), 0.3);
        let order = t.postorder();
        assert_eq!(*order.last().expect("nonempty"), t.root());
        assert_eq!(order.len(), 5);
    }

    #[test]
    fn unbalanced_parentheses_are_located() {
        let e = parse_newick("((a,b),c;", &Location::named("t.nwk"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.nwk line 1: column 1: unbalanced parentheses: this '(' is never closed before ';'"
        );
        let e = parse_newick("(a,b));", &Location::named("t.nwk"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column 6") && e.contains("no matching '('"),
            "{e}"
        );
        assert!(
            parse_newick("(a:x,b);", &Location::named("t"))
                .unwrap_err()
                .to_string()
                .contains("'x' is not a number")
        );
        assert!(
            parse_newick("", &Location::named("t"))
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }
}
