/*!
Model formulas and design matrices, with statsmodels' conventions: an intercept, numeric
columns as they are, categorical columns in treatment coding against a reference level (the
first level in sorted order unless one is chosen), terms named `column[T.level]`. `C(col)` forces
a numeric-looking column (such as sex coded 1/2) to be categorical.

Samples with a missing value in any formula column are dropped and counted; a categorical
column with one level among the samples kept, or a level with a single sample, is an error
that names the column, as is a constant numeric column.
*/

use crate::error::{Error, Result};
use gutjoint_table::{Column, Metadata};
use serde::Serialize;
use std::collections::BTreeMap;

/// One term of a formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub column: String,
    pub categorical: bool,
}

/// Parses `a + b + C(c)` (whitespace free-form). Column names that are not plain identifiers
/// (spaces, parentheses, `=`, `+`…) are quoted as patsy does: `Q("Group (1=HC,2=RA)")`, also
/// inside `C(...)`; [`quote_column`] writes that form. Inside `C(...)` an unquoted name is taken
/// literally up to the closing parenthesis, so `C(Group (1=HC,2=RA))` works too.
pub fn parse_formula(formula: &str) -> Result<Vec<Term>> {
    let formula = formula.trim();
    let rhs = split_top_level(formula, '~')
        .map_err(Error::Formula)?
        .pop()
        .unwrap_or_default();
    let mut terms = Vec::new();
    for part in split_top_level(&rhs, '+').map_err(Error::Formula)? {
        let part = part.trim();
        if part.is_empty() {
            return Err(Error::Formula(format!("empty term in '{formula}'")));
        }
        if part == "1" {
            continue;
        }
        let (inner, categorical) = match part.strip_prefix("C(").and_then(|p| p.strip_suffix(')')) {
            Some(inner) => (inner.trim(), true),
            None => (part, false),
        };
        let column = match unquote(inner).map_err(Error::Formula)? {
            Some(name) => name,
            None if categorical && !inner.contains(['*', ':', '"']) && !inner.is_empty() => {
                inner.to_string()
            }
            None => {
                if inner.contains(['*', ':', '(', ')', '-']) {
                    return Err(Error::Formula(format!(
                        "'{part}': only main effects (a + b + C(c)) are supported; quote a column name with spaces, parentheses or '=' as Q(\"name\")"
                    )));
                }
                inner.to_string()
            }
        };
        terms.push(Term {
            column,
            categorical,
        });
    }
    if terms.is_empty() {
        return Err(Error::Formula(format!("'{formula}' has no terms")));
    }
    Ok(terms)
}

/// Covariates given as a formula right-hand side (`age + C(sex)`) or a comma list
/// (`age, C(sex)`): commas inside quotes or parentheses (`Q("Group (1=HC,2=RA)")`) are kept.
pub fn parse_covariates(text: &str) -> Result<Vec<Term>> {
    let parts = split_top_level(text, ',').map_err(Error::Formula)?;
    parse_formula(&parts.join("+"))
}

/// A column name as a formula term: itself when it is a plain identifier (letters, digits, `_`
/// and `.`, not starting with a digit), else patsy's `Q("...")` with `"` and `\` escaped.
pub fn quote_column(name: &str) -> String {
    let plain = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    if plain {
        name.to_string()
    } else {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("Q(\"{escaped}\")")
    }
}

/// `Q("name")` or `Q('name')` → `Some(name)` (backslash escapes undone); anything else `None`.
fn unquote(text: &str) -> std::result::Result<Option<String>, String> {
    let Some(inner) = text
        .strip_prefix("Q(")
        .and_then(|t| t.strip_suffix(')'))
        .map(str::trim)
    else {
        return Ok(None);
    };
    let mut chars = inner.chars();
    let quote = match chars.next() {
        Some(q @ ('"' | '\'')) => q,
        _ => {
            return Err(format!(
                "'{text}': Q() takes a quoted column name, e.g. Q(\"Group (1=HC,2=RA)\")"
            ));
        }
    };
    let mut name = String::new();
    let mut closed = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) => name.push(e),
                None => break,
            },
            c if c == quote => {
                closed = true;
                break;
            }
            c => name.push(c),
        }
    }
    if !closed || !chars.as_str().trim().is_empty() {
        return Err(format!(
            "'{text}': unterminated or malformed quoted name in Q()"
        ));
    }
    Ok(Some(name))
}

/// Splits at `sep` where it is outside quotes and parentheses.
fn split_top_level(text: &str, sep: char) -> std::result::Result<Vec<String>, String> {
    let mut parts = vec![String::new()];
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
        } else {
            match c {
                '"' | '\'' => quote = Some(c),
                '(' => depth += 1,
                ')' => depth -= 1,
                c if c == sep && depth == 0 => {
                    parts.push(String::new());
                    continue;
                }
                _ => {}
            }
        }
        parts.last_mut().expect("one part").push(c);
    }
    if quote.is_some() || depth != 0 {
        return Err(format!(
            "'{text}': unbalanced {}",
            if quote.is_some() {
                "quotes"
            } else {
                "parentheses"
            }
        ));
    }
    Ok(parts)
}

/// A design matrix over the samples that have every formula value.
#[derive(Debug, Clone, Serialize)]
pub struct Design {
    /// Column names: `Intercept`, `col[T.level]`, `col`.
    pub names: Vec<String>,
    /// Row-major `n × p`.
    #[serde(skip)]
    pub x: Vec<f64>,
    pub n: usize,
    pub p: usize,
    /// Metadata sample ids of the rows, in table order.
    pub sample_ids: Vec<String>,
    /// Samples dropped for a missing value, with the column that was missing.
    pub dropped: Vec<(String, String)>,
    /// Reference level of each categorical term.
    pub references: BTreeMap<String, String>,
}

/// Builds the design for `samples` (ids in the order they will be analysed).
pub fn design(
    metadata: &Metadata,
    samples: &[String],
    terms: &[Term],
    references: &BTreeMap<String, String>,
) -> Result<Design> {
    let index = metadata.index();
    let mut columns: Vec<(&Term, &Column)> = Vec::new();
    for t in terms {
        let c = metadata.column(&t.column).ok_or_else(|| {
            Error::Metadata(format!(
                "no column '{}' for the formula; the columns are: {}",
                t.column,
                metadata.column_names().join(", ")
            ))
        })?;
        columns.push((t, c));
    }
    // Keep samples present in the metadata with every value.
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for id in samples {
        let Some(&row) = index.get(id.as_str()) else {
            dropped.push((id.clone(), "not in the metadata".into()));
            continue;
        };
        match columns.iter().find(|(_, c)| c.text(row).is_none()) {
            Some((t, _)) => dropped.push((id.clone(), t.column.clone())),
            None => kept.push((id.clone(), row)),
        }
    }
    if kept.is_empty() {
        let empty: Vec<&str> = columns
            .iter()
            .filter(|(_, c)| {
                samples
                    .iter()
                    .all(|id| index.get(id.as_str()).is_none_or(|&r| c.text(r).is_none()))
            })
            .map(|(t, _)| t.column.as_str())
            .collect();
        let which = if empty.is_empty() {
            String::new()
        } else {
            format!(" ('{}' has no value at all)", empty.join("', '"))
        };
        return Err(Error::Metadata(format!(
            "no sample has a value in every formula column{which}"
        )));
    }
    let n = kept.len();
    let mut names = vec!["Intercept".to_string()];
    let mut blocks: Vec<Vec<f64>> = vec![vec![1.0; n]];
    let mut chosen = BTreeMap::new();
    // Categorical terms first, then numeric ones, as statsmodels orders them.
    for categorical in [true, false] {
        for (t, c) in columns
            .iter()
            .filter(|(t, c)| (t.categorical || !c.is_numeric()) == categorical)
        {
            if categorical {
                let values: Vec<String> = kept
                    .iter()
                    .map(|(_, r)| c.text(*r).unwrap_or_default())
                    .collect();
                let mut levels: Vec<String> = values.clone();
                levels.sort_by(|a, b| natural(a, b));
                levels.dedup();
                if levels.len() < 2 {
                    return Err(Error::Metadata(format!(
                        "column '{}' has a single level ('{}') among the samples used",
                        t.column, levels[0]
                    )));
                }
                for l in &levels {
                    let count = values.iter().filter(|v| *v == l).count();
                    if count < 2 {
                        return Err(Error::Metadata(format!(
                            "level '{l}' of column '{}' has {count} sample; a level needs at least 2",
                            t.column
                        )));
                    }
                }
                let reference = match references.get(&t.column) {
                    Some(r) if levels.contains(r) => r.clone(),
                    Some(r) => {
                        return Err(Error::Metadata(format!(
                            "reference level '{r}' is not a level of '{}' (levels: {})",
                            t.column,
                            levels.join(", ")
                        )));
                    }
                    None => levels[0].clone(),
                };
                for level in levels.iter().filter(|l| **l != reference) {
                    names.push(format!("{}[T.{level}]", t.column));
                    blocks.push(
                        values
                            .iter()
                            .map(|v| if v == level { 1.0 } else { 0.0 })
                            .collect(),
                    );
                }
                chosen.insert(t.column.clone(), reference);
            } else {
                let values: Vec<f64> = kept
                    .iter()
                    .map(|(_, r)| c.text(*r).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN))
                    .collect();
                if values.iter().all(|v| *v == values[0]) {
                    return Err(Error::Metadata(format!(
                        "column '{}' is constant ({}) among the samples used",
                        t.column, values[0]
                    )));
                }
                names.push(t.column.clone());
                blocks.push(values);
            }
        }
    }
    let p = names.len();
    let mut x = vec![0.0; n * p];
    for (j, block) in blocks.iter().enumerate() {
        for (i, v) in block.iter().enumerate() {
            x[i * p + j] = *v;
        }
    }
    Ok(Design {
        names,
        x,
        n,
        p,
        sample_ids: kept.into_iter().map(|(id, _)| id).collect(),
        dropped,
        references: chosen,
    })
}

/// Orders levels numerically when both are numbers (1 < 2 < 10), else as text.
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_table::Location;

    #[test]
    fn formula_and_treatment_coding() {
        let terms = parse_formula("y ~ group + age + C(sex)").expect("valid");
        assert_eq!(terms.len(), 3);
        assert!(terms[2].categorical);
        let md = gutjoint_table::metadata::read_metadata(
            "id\tgroup\tage\tsex\na\tRA\t30\t1\nb\thealthy\t40\t2\nc\tRA\t50\t2\nd\thealthy\tNA\t1\ne\thealthy\t35\t1\n".as_bytes(),
            &Location::named("md"),
        )
        .expect("md");
        let ids: Vec<String> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let refs = BTreeMap::from([("group".to_string(), "healthy".to_string())]);
        let d = design(&md, &ids, &terms, &refs).expect("design");
        assert_eq!(d.names, ["Intercept", "group[T.RA]", "sex[T.2]", "age"]);
        assert_eq!(d.dropped, vec![("d".to_string(), "age".to_string())]);
        assert_eq!(d.n, 4);
        // Row a: intercept 1, RA 1, sex 2? no (1), age 30.
        assert_eq!(&d.x[0..4], &[1.0, 1.0, 0.0, 30.0]);
        let bad = design(&md, &ids[..2], &terms, &refs)
            .unwrap_err()
            .to_string();
        assert!(bad.contains("has 1 sample"), "{bad}");
    }

    #[test]
    fn quoted_column_names_as_patsy() {
        let name = "Group (1=HC,2=RA)";
        let terms = parse_formula(&format!(
            "y ~ {} + C({}) + age",
            quote_column(name),
            quote_column("sex code")
        ))
        .expect("quoted names parse");
        assert_eq!(terms[0].column, name);
        assert!(!terms[0].categorical);
        assert_eq!(terms[1].column, "sex code");
        assert!(terms[1].categorical);
        assert_eq!(terms[2].column, "age");
        assert_eq!(quote_column("age"), "age");
        assert_eq!(quote_column(name), "Q(\"Group (1=HC,2=RA)\")");
        assert_eq!(quote_column("a\"b"), "Q(\"a\\\"b\")");
        assert_eq!(
            parse_formula(&quote_column("a\"b")).expect("ok")[0].column,
            "a\"b"
        );
        // Single quotes, and an unquoted odd name inside C(), as a formula built by
        // format!("C({column})") would give.
        assert_eq!(parse_formula("Q('x + y')").expect("ok")[0].column, "x + y");
        let c = parse_formula(&format!("C({name}) + age")).expect("ok");
        assert_eq!((c[0].column.as_str(), c[0].categorical), (name, true));
        // An unquoted odd name outside C() is refused with the way out in the message.
        let e = parse_formula(name).unwrap_err().to_string();
        assert!(e.contains("Q(\"name\")"), "{e}");
        assert!(parse_formula("a * b").is_err());
        let cov = parse_covariates(&format!("age, {}", quote_column(name))).expect("ok");
        assert_eq!(cov[1].column, name);
        assert!(parse_formula("Q(\"unterminated)").is_err());
        // The design finds the column under its real name.
        let md = gutjoint_table::metadata::read_metadata(
            "id\tGroup (1=HC,2=RA)\na\t1\nb\t2\nc\t1\nd\t2\n".as_bytes(),
            &Location::named("md"),
        )
        .expect("md");
        let ids: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let terms = parse_formula(&format!("C({})", quote_column(name))).expect("ok");
        let d = design(&md, &ids, &terms, &BTreeMap::new()).expect("design");
        assert_eq!(d.names, ["Intercept", "Group (1=HC,2=RA)[T.2]"]);
    }
}

/// A two-way interaction of formula terms (`a:b`, or the interaction part of `a*b`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Interaction {
    /// The two terms as written (`time`, `C(visit)`).
    pub left: String,
    pub right: String,
}

/// Splits two-way interactions out of a formula: `a*b` becomes the main effects `a + b` plus
/// the interaction `a:b`; `a:b` alone needs `a` and `b` among the main effects (a design
/// without them is not what patsy or R would build). Returns the main-effects formula for
/// [`parse_formula`] and the interactions for [`add_interactions`].
pub fn split_interactions(formula: &str) -> Result<(String, Vec<Interaction>)> {
    let formula = formula.trim();
    let rhs = formula.split_once('~').map_or(formula, |(_, r)| r);
    let mut main: Vec<String> = Vec::new();
    let mut pairs = Vec::new();
    for part in rhs.split('+').map(str::trim) {
        let (sep, star) = if part.contains('*') {
            ('*', true)
        } else if part.contains(':') {
            (':', false)
        } else {
            if !main.iter().any(|m| m == part) {
                main.push(part.to_string());
            }
            continue;
        };
        let pieces: Vec<&str> = part.split(sep).map(str::trim).collect();
        if pieces.len() != 2 || pieces.iter().any(|p| p.is_empty()) {
            return Err(Error::Formula(format!(
                "'{part}': only two-way interactions (a*b or a:b) are supported"
            )));
        }
        if star {
            for p in &pieces {
                if !main.iter().any(|m| m == p) {
                    main.push(p.to_string());
                }
            }
        }
        pairs.push(Interaction {
            left: pieces[0].to_string(),
            right: pieces[1].to_string(),
        });
    }
    for pair in &pairs {
        for side in [&pair.left, &pair.right] {
            if !main.iter().any(|m| m == side) {
                return Err(Error::Formula(format!(
                    "'{}:{}' needs '{side}' as a main effect too (write {}*{})",
                    pair.left, pair.right, pair.left, pair.right
                )));
            }
        }
    }
    Ok((main.join(" + "), pairs))
}

/// Appends the product columns of each interaction to a main-effects design, named as patsy
/// names them (`time:group[T.LGG]`): every column of the left term times every column of the
/// right term.
pub fn add_interactions(design: &mut Design, interactions: &[Interaction]) -> Result<()> {
    let column_of = |written: &str| -> String {
        let w = written.trim();
        w.strip_prefix("C(")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or(w)
            .trim()
            .to_string()
    };
    let (n, p) = (design.n, design.p);
    let mut new_names = Vec::new();
    let mut new_columns: Vec<Vec<f64>> = Vec::new();
    for pair in interactions {
        let columns = |term: &str| -> Vec<usize> {
            let column = column_of(term);
            let prefix = format!("{column}[T.");
            (1..p)
                .filter(|&j| design.names[j] == column || design.names[j].starts_with(&prefix))
                .collect()
        };
        let (left, right) = (columns(&pair.left), columns(&pair.right));
        if left.is_empty() || right.is_empty() {
            return Err(Error::Formula(format!(
                "interaction '{}:{}': no design column for one of its terms",
                pair.left, pair.right
            )));
        }
        for &a in &left {
            for &b in &right {
                new_names.push(format!("{}:{}", design.names[a], design.names[b]));
                new_columns.push(
                    (0..n)
                        .map(|i| design.x[i * p + a] * design.x[i * p + b])
                        .collect(),
                );
            }
        }
    }
    let q = p + new_names.len();
    let mut x = vec![0.0; n * q];
    for i in 0..n {
        x[i * q..i * q + p].copy_from_slice(&design.x[i * p..(i + 1) * p]);
        for (k, col) in new_columns.iter().enumerate() {
            x[i * q + p + k] = col[i];
        }
    }
    design.names.extend(new_names);
    design.x = x;
    design.p = q;
    Ok(())
}

#[cfg(test)]
mod interaction_tests {
    use super::*;
    use gutjoint_table::Location;

    #[test]
    fn star_expands_and_columns_multiply() {
        let (main, pairs) = split_interactions("time * group + age").expect("valid");
        assert_eq!(main, "time + group + age");
        assert_eq!(pairs.len(), 1);
        assert!(split_interactions("time:group").is_err());
        assert!(split_interactions("a*b*c").is_err());
        let md = gutjoint_table::metadata::read_metadata(
            "id\ttime\tgroup\na\t1\tLGG\nb\t2\tLGG\nc\t1\tPlacebo\nd\t2\tPlacebo\ne\t3\tPlacebo\n"
                .as_bytes(),
            &Location::named("md"),
        )
        .expect("md");
        let ids: Vec<String> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let terms = parse_formula(&main.replace(" + age", "")).expect("terms");
        let refs = BTreeMap::from([("group".to_string(), "Placebo".to_string())]);
        let mut d = design(&md, &ids, &terms, &refs).expect("design");
        add_interactions(&mut d, &pairs).expect("interaction");
        assert_eq!(
            d.names,
            ["Intercept", "group[T.LGG]", "time", "time:group[T.LGG]"]
        );
        // Row b: LGG at time 2 → product 2; row d: Placebo → 0.
        assert_eq!(&d.x[4..8], &[1.0, 1.0, 2.0, 2.0]);
        assert_eq!(&d.x[12..16], &[1.0, 0.0, 2.0, 0.0]);
    }
}
