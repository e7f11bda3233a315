//! "Did you mean" suggestions for names that were not found.

/// Up to three candidates closest to `wanted` by edit distance (case-insensitive), best
/// first; a candidate containing `wanted` counts as close, so "abyssal" finds
/// "Abyssal Demon".
pub fn suggestions<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let wanted = wanted.trim().to_lowercase();
    if wanted.is_empty() {
        return Vec::new();
    }
    // Allow roughly one typo per three characters.
    let budget = wanted.chars().count() / 3 + 1;
    let mut scored: Vec<(usize, String)> = candidates
        .filter_map(|c| {
            let lower = c.to_lowercase();
            let d = if lower.contains(&wanted) {
                0
            } else {
                levenshtein(&wanted, &lower)
            };
            (d <= budget).then(|| (d, c.to_owned()))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1.eq_ignore_ascii_case(&b.1));
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
