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

/// Whether a character has no place in a text field: a control character,
/// or an invisible formatting one that changes how the text around it is
/// shown without showing itself — bidirectional overrides, embeddings and
/// isolates (U+202A–U+202E, U+2066–U+2069, U+061C), zero-width spaces and
/// joiners and direction marks (U+200B–U+200F, U+2060–U+2064), the byte
/// order mark (U+FEFF), soft hyphens (U+00AD) and the like: U+202E before `gpj.exe` shows
/// a file name as `exe.jpg`.
pub fn is_hidden_or_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// The violation message of a text field holding such a character.
pub const HIDDEN_OR_CONTROL: &str =
    "must not contain control characters or invisible formatting characters (such as U+202E, U+200B or U+FEFF)";

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
    fn bidi_controls_and_invisible_characters_are_hidden_or_control() {
        for c in [
            '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200F}', '\u{FEFF}', '\u{061C}', '\u{7}',
            '\n',
        ] {
            assert!(is_hidden_or_control(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'é', ' ', '-', '\'', '’', '€', 'œ', '中'] {
            assert!(!is_hidden_or_control(c), "{c}");
        }
    }

    #[test]
    fn fold_letters_keeps_spacing() {
        assert_eq!(fold_letters("Élevage  BOVIN"), "elevage  bovin");
    }
}
