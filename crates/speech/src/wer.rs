//! Word error rate, as the transcription tests and `eval_transcribe`
//! measure it: one definition, so a test threshold and a benchmark number
//! mean the same thing.

/// Lower-cased words with punctuation dropped (apostrophes kept).
pub fn normalise(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Edit-distance alignment of reference and hypothesis words: the error
/// count and, per reference word, the hypothesis word it matched or was
/// substituted by.
pub fn align_words(reference: &[String], hyp: &[String]) -> (usize, Vec<Option<usize>>) {
    let (n, m) = (reference.len(), hyp.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + usize::from(reference[i - 1] != hyp[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let mut pairs = vec![None; n];
    let (mut i, mut j) = (n, m);
    while i > 0 && j > 0 {
        let sub = d[i - 1][j - 1] + usize::from(reference[i - 1] != hyp[j - 1]);
        if d[i][j] == sub {
            pairs[i - 1] = Some(j - 1);
            i -= 1;
            j -= 1;
        } else if d[i][j] == d[i - 1][j] + 1 {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    (d[n][m], pairs)
}

/// Word error rate of `hyp` against `reference` (errors over reference words).
pub fn word_error_rate(reference: &str, hyp: &str) -> f64 {
    let r = normalise(reference);
    let (errors, _) = align_words(&r, &normalise(hyp));
    errors as f64 / r.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_and_case_do_not_count() {
        assert_eq!(word_error_rate("Hello, there!", "hello there"), 0.0);
        assert_eq!(normalise("It's  FINE."), vec!["it's", "fine"]);
    }

    #[test]
    fn substitutions_insertions_and_omissions_each_count_once() {
        assert_eq!(word_error_rate("a b c d", "a x c d"), 0.25);
        assert_eq!(word_error_rate("a b c d", "a b c d e"), 0.25);
        assert_eq!(word_error_rate("a b c d", "a c d"), 0.25);
        assert_eq!(word_error_rate("", "anything"), 1.0);
    }

    #[test]
    fn alignment_pairs_each_reference_word() {
        let r = normalise("the cat sat");
        let (errors, pairs) = align_words(&r, &normalise("the dog sat down"));
        assert_eq!(errors, 2);
        assert_eq!(pairs, vec![Some(0), Some(1), Some(2)]);
    }
}
