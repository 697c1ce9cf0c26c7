/*!
Name normalisation and "did you mean" suggestions.

Taxon names arrive as `s__Prevotella_copri`, `[Ruminococcus] gnavus group`, `Prevotella spp.`;
drug names as brands, misspellings (`fligotinib`, in the article that started this project) and
salts. [`normalize`] folds the spelling differences that never change meaning; [`suggest`] finds
the closest known name by optimal-string-alignment distance (Levenshtein plus adjacent
transpositions, the commonest typing error), within a quarter of the query's length.
*/

/// Folds a taxon name to a comparison key: lower case, `_` → space, `[` `]` removed, a leading
/// rank prefix (`s__`, `g__`, `d__`, …) removed, trailing ` spp.`, ` sp.` and ` group`
/// removed, whitespace collapsed.
///
/// GTDB suffixes survive as a separate word (`Faecalibacterium prausnitzii_D` →
/// `faecalibacterium prausnitzii d`), so they match only where the synonym table lists them.
pub fn normalize(name: &str) -> String {
    let mut text = name.trim();
    if let Some(rest) = strip_rank_prefix(text) {
        text = rest;
    }
    let text: String = text
        .chars()
        .filter(|c| *c != '[' && *c != ']')
        .map(|c| if c == '_' { ' ' } else { c })
        .collect::<String>()
        .to_lowercase();
    let mut words: Vec<&str> = text.split_whitespace().collect();
    while words.len() > 1
        && matches!(
            words.last(),
            Some(&("spp." | "spp" | "sp." | "sp" | "group"))
        )
    {
        words.pop();
    }
    words.join(" ")
}

/// `s__Name` → `Name` (any single-letter rank prefix, including `k` and `t`).
fn strip_rank_prefix(text: &str) -> Option<&str> {
    let mut chars = text.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.as_str().starts_with("__")).then(|| &text[3..])
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
/// adjacent characters each cost 1 (no substring is edited twice). Compares `char`s.
pub fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() {
        return b.len();
    }
    if b.is_empty() {
        return a.len();
    }
    let width = b.len() + 1;
    let mut two_back: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(two_back[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut two_back, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The largest distance [`suggest`] accepts for a query: a quarter of its length, at least 1.
pub fn max_suggestion_distance(query: &str) -> usize {
    (query.chars().count() / 4).max(1)
}

/// The candidate closest to `query` (case-insensitive), if within
/// [`max_suggestion_distance`]; ties go to the alphabetically first candidate. An exact
/// (case-insensitive) match is returned too, with distance 0.
pub fn suggest<S: AsRef<str>>(query: &str, candidates: &[S]) -> Option<String> {
    suggest_by(query, candidates, |s| s.trim().to_lowercase())
}

/// [`suggest`] comparing `key(query)` with `key(candidate)`, returning the candidate as given.
pub(crate) fn suggest_by<S: AsRef<str>>(
    query: &str,
    candidates: &[S],
    key: impl Fn(&str) -> String,
) -> Option<String> {
    let query_key = key(query);
    if query_key.is_empty() {
        return None;
    }
    let limit = max_suggestion_distance(&query_key);
    let mut best: Option<(usize, String, &str)> = None;
    for candidate in candidates {
        let candidate = candidate.as_ref();
        let candidate_key = key(candidate);
        if candidate_key.is_empty() {
            continue;
        }
        // Cheap bound: the distance is at least the difference in length.
        let (ql, cl) = (query_key.chars().count(), candidate_key.chars().count());
        if ql.abs_diff(cl) > limit {
            continue;
        }
        let distance = osa_distance(&query_key, &candidate_key);
        if distance > limit {
            continue;
        }
        let better = match &best {
            None => true,
            Some((d, k, c)) => (distance, &candidate_key, candidate) < (*d, k, c),
        };
        if better {
            best = Some((distance, candidate_key, candidate));
        }
    }
    best.map(|(_, _, candidate)| candidate.to_string())
}

/// A name with GTDB suffixes (`_A`, `_B`, … `_AB`) removed from each word, for spotting
/// siblings such as `Ruminococcus_B` and `Ruminococcus_C` that must not be suggested for each
/// other (GTDB splits them into different families).
pub(crate) fn gtdb_base(name: &str) -> String {
    name.split_whitespace()
        .map(|word| match word.rsplit_once('_') {
            Some((base, suffix))
                if !base.is_empty()
                    && (1..=2).contains(&suffix.len())
                    && suffix.bytes().all(|b| b.is_ascii_uppercase()) =>
            {
                base
            }
            _ => word,
        })
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether `needle` occurs in `haystack` as whole words (bounded by non-alphanumerics);
/// both are compared lower-cased.
pub(crate) fn contains_words(haystack: &str, needle: &str) -> bool {
    let haystack = haystack.to_lowercase();
    let needle = needle.trim().to_lowercase();
    if needle.is_empty() {
        return false;
    }
    let bytes = haystack.as_bytes();
    let mut from = 0;
    while let Some(pos) = haystack[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before_ok = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let after_ok = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if before_ok && after_ok {
            return true;
        }
        from = start + needle.chars().next().map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_spellings() {
        assert_eq!(normalize("s__Prevotella_copri"), "prevotella copri");
        assert_eq!(
            normalize("[Ruminococcus] gnavus group"),
            "ruminococcus gnavus"
        );
        assert_eq!(normalize("  Prevotella   spp. "), "prevotella");
        assert_eq!(normalize("Prevotella sp."), "prevotella");
        assert_eq!(normalize("Prevotella sp. C561"), "prevotella sp. c561");
        assert_eq!(
            normalize("Faecalibacterium prausnitzii_D"),
            "faecalibacterium prausnitzii d"
        );
        assert_eq!(normalize("g__Prevotella_9"), "prevotella 9");
        assert_eq!(normalize("group"), "group");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn osa_distance_counts_transpositions_once() {
        assert_eq!(osa_distance("fligotinib", "filgotinib"), 1);
        assert_eq!(osa_distance("segatela copri", "segatella copri"), 1);
        assert_eq!(osa_distance("kitten", "sitting"), 3);
        assert_eq!(osa_distance("ca", "abc"), 3); // OSA, not full Damerau (which gives 2)
        assert_eq!(osa_distance("", "abc"), 3);
        assert_eq!(osa_distance("abc", ""), 3);
        assert_eq!(osa_distance("same", "same"), 0);
    }

    #[test]
    fn suggestions() {
        let drugs = ["tofacitinib", "filgotinib", "baricitinib", "upadacitinib"];
        assert_eq!(suggest("fligotinib", &drugs).as_deref(), Some("filgotinib"));
        assert_eq!(
            suggest("Segatela copri", &["Segatella copri", "Prevotella copri"]).as_deref(),
            Some("Segatella copri")
        );
        assert_eq!(suggest("aspirine", &["nothing", "else"]), None);
        // Ties go to the alphabetically first candidate.
        assert_eq!(suggest("ab", &["ac", "aa"]).as_deref(), Some("aa"));
        // Short queries still allow one edit.
        assert_eq!(suggest("RX", &["RA"]).as_deref(), Some("RA"));
        assert_eq!(suggest("", &["a"]), None);
    }

    #[test]
    fn gtdb_siblings_share_a_base() {
        assert_eq!(gtdb_base("Ruminococcus_B"), "ruminococcus");
        assert_eq!(gtdb_base("Ruminococcus_B gnavus"), "ruminococcus gnavus");
        assert_eq!(
            gtdb_base("Prevotella_copri_clade_A"),
            "prevotella_copri_clade"
        );
        assert_eq!(gtdb_base("CAG-56"), "cag-56");
    }

    #[test]
    fn whole_word_matching() {
        assert!(contains_words(
            "methotrexate, Tripterygium glycosides",
            "methotrexate"
        ));
        assert!(!contains_words("DMARDs (conventional synthetic)", "asa"));
        assert!(contains_words(
            "TNF inhibitors with a diet",
            "tnf inhibitors"
        ));
        assert!(!contains_words("abc", ""));
    }
}
