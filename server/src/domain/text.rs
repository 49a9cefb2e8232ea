//! Text normalisation shared by matching rules: accent- and case-folding.

/// Folds `text` for comparisons that ignore case, accents and punctuation:
/// lower-cases, strips French diacritics (`é` → `e`, `œ` → `oe`), and turns
/// every run of non-alphanumeric characters into one space, trimmed.
///
/// `"Côtes-d'Armor"` and `"cotes d armor"` fold to the same string.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars().flat_map(char::to_lowercase) {
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            push_unaccented(&mut out, ch);
        } else {
            pending_space = true;
        }
    }
    out
}

/// Folds `text` like [`fold`] but keeps its punctuation and spacing: used to
/// search for a folded needle inside a folded haystack with word boundaries
/// that [`fold`] already normalised.
pub fn fold_letters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars().flat_map(char::to_lowercase) {
        push_unaccented(&mut out, ch);
    }
    out
}

fn push_unaccented(out: &mut String, ch: char) {
    let base = match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        'œ' => return out.push_str("oe"),
        'æ' => return out.push_str("ae"),
        other => other,
    };
    out.push(base);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_ignores_case_accents_and_punctuation() {
        assert_eq!(fold("Côtes-d'Armor"), "cotes d armor");
        assert_eq!(fold("  ÎLE-DE-FRANCE "), "ile de france");
        assert_eq!(fold("Provence-Alpes-Côte d'Azur"), "provence alpes cote d azur");
        assert_eq!(fold("Œuvre"), "oeuvre");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn fold_letters_keeps_spacing() {
        assert_eq!(fold_letters("Élevage  BOVIN"), "elevage  bovin");
    }
}
