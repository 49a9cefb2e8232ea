//! `LIKE` patterns for the word searches. Search texts are folded
//! ([`crate::domain::text::fold`]: words separated by one space) and start
//! and end with a space, so a word boundary is a space on either side.

/// Whole words: `text` (one or more folded words) between two boundaries.
pub(crate) fn whole_words(text: &str) -> String {
    format!("% {} %", escaped(text))
}

/// A word that starts with `prefix` (a folded word).
pub(crate) fn word_starting_with(prefix: &str) -> String {
    format!("% {}%", escaped(prefix))
}

/// A value that starts with `prefix`.
pub(crate) fn starting_with(prefix: &str) -> String {
    format!("{}%", escaped(prefix))
}

/// `text` with LIKE's wildcards and escape character escaped by `\`.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_the_text_match_only_themselves() {
        assert_eq!(whole_words("50%_off"), "% 50\\%\\_off %");
        assert_eq!(word_starting_with("a\\b"), "% a\\\\b%");
        assert_eq!(starting_with("0192"), "0192%");
    }
}
