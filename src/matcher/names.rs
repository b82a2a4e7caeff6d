//! Person names for matching: folded (case, diacritics, common transliterations), nicknames
//! mapped to a canonical given name, and the agreement test between two names
//! (same tokens in any order, initials, Jaro-Winkler for typos).

use unicode_normalization::UnicodeNormalization;

/// A name ready for comparison: lower-case ASCII tokens, nicknames canonicalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldedName {
    /// Tokens in written order, nicknames replaced by their canonical given name.
    pub tokens: Vec<String>,
}

/// How two names agree, strongest first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NameAgreement {
    /// Same tokens, possibly in another order or through a nickname.
    Exact,
    /// Same family name, and one given name is the other's initial (`S. Jones`).
    Initial,
    /// Jaro-Winkler similarity of the sorted tokens at or above [`SIMILAR_MIN`].
    Similar(f64),
    /// One side is a single given name equal to the other's given name (`Kate` / `Kate Moss`).
    GivenOnly,
}

/// Lowest Jaro-Winkler similarity counted as the same name with a typo.
pub const SIMILAR_MIN: f64 = 0.9;

/// Folds one character to ASCII where a plain decomposition does not (ß, æ, ø, ł, Cyrillic, Greek).
fn transliterate(c: char, out: &mut String) -> bool {
    let s = match c {
        'ß' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ø' | 'Ø' => "o",
        'ł' | 'Ł' => "l",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'þ' | 'Þ' => "th",
        'ı' => "i",
        'а' | 'А' => "a",
        'б' | 'Б' => "b",
        'в' | 'В' => "v",
        'г' | 'Г' => "g",
        'д' | 'Д' => "d",
        'е' | 'Е' | 'э' | 'Э' => "e",
        'ё' | 'Ё' => "e",
        'ж' | 'Ж' => "zh",
        'з' | 'З' => "z",
        'и' | 'И' | 'й' | 'Й' | 'ы' | 'Ы' => "i",
        'к' | 'К' => "k",
        'л' | 'Л' => "l",
        'м' | 'М' => "m",
        'н' | 'Н' => "n",
        'о' | 'О' => "o",
        'п' | 'П' => "p",
        'р' | 'Р' => "r",
        'с' | 'С' => "s",
        'т' | 'Т' => "t",
        'у' | 'У' => "u",
        'ф' | 'Ф' => "f",
        'х' | 'Х' => "kh",
        'ц' | 'Ц' => "ts",
        'ч' | 'Ч' => "ch",
        'ш' | 'Ш' => "sh",
        'щ' | 'Щ' => "shch",
        'ъ' | 'Ъ' | 'ь' | 'Ь' => "",
        'ю' | 'Ю' => "yu",
        'я' | 'Я' => "ya",
        'α' | 'Α' => "a",
        'β' | 'Β' => "v",
        'γ' | 'Γ' => "g",
        'δ' | 'Δ' => "d",
        'ε' | 'Ε' | 'η' | 'Η' => "e",
        'ζ' | 'Ζ' => "z",
        'θ' | 'Θ' => "th",
        'ι' | 'Ι' => "i",
        'κ' | 'Κ' => "k",
        'λ' | 'Λ' => "l",
        'μ' | 'Μ' => "m",
        'ν' | 'Ν' => "n",
        'ξ' | 'Ξ' => "x",
        'ο' | 'Ο' | 'ω' | 'Ω' => "o",
        'π' | 'Π' => "p",
        'ρ' | 'Ρ' => "r",
        'σ' | 'ς' | 'Σ' => "s",
        'τ' | 'Τ' => "t",
        'υ' | 'Υ' => "y",
        'φ' | 'Φ' => "f",
        'χ' | 'Χ' => "ch",
        'ψ' | 'Ψ' => "ps",
        _ => return false,
    };
    out.push_str(s);
    true
}

/// Lower-case ASCII letters and digits, words separated by one space; diacritics dropped,
/// other scripts transliterated where a table exists, punctuation treated as a separator.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let push_sep = |out: &mut String| {
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    };
    if s.is_ascii() {
        for c in s.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if c == '\'' {
                // O'Brien → obrien
            } else {
                push_sep(&mut out);
            }
        }
    } else {
        for c in s.nfd() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if unicode_normalization::char::is_combining_mark(c)
                || c == '\''
                || c == '’'
                || transliterate(c, &mut out)
            {
                // Dropped, or already written by the transliteration table.
            } else if c.is_alphanumeric() {
                // A script without a table (CJK, Arabic…): keep it, lower-cased.
                out.extend(c.to_lowercase());
            } else {
                push_sep(&mut out);
            }
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Nicknames and short forms → canonical given name.
const NICKNAMES: &[(&str, &str)] = &[
    ("abby", "abigail"),
    ("al", "albert"),
    ("alex", "alexander"),
    ("andy", "andrew"),
    ("drew", "andrew"),
    ("tony", "anthony"),
    ("ben", "benjamin"),
    ("benny", "benjamin"),
    ("bob", "robert"),
    ("bobby", "robert"),
    ("rob", "robert"),
    ("robbie", "robert"),
    ("bert", "robert"),
    ("cathy", "catherine"),
    ("kathy", "catherine"),
    ("katherine", "catherine"),
    ("kate", "catherine"),
    ("katie", "catherine"),
    ("kat", "catherine"),
    ("chris", "christopher"),
    ("dan", "daniel"),
    ("danny", "daniel"),
    ("dave", "david"),
    ("davy", "david"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("ted", "edward"),
    ("liz", "elizabeth"),
    ("lizzie", "elizabeth"),
    ("beth", "elizabeth"),
    ("betty", "elizabeth"),
    ("eliza", "elizabeth"),
    ("fred", "frederick"),
    ("freddie", "frederick"),
    ("greg", "gregory"),
    ("harry", "henry"),
    ("hank", "henry"),
    ("jim", "james"),
    ("jimmy", "james"),
    ("jamie", "james"),
    ("jen", "jennifer"),
    ("jenny", "jennifer"),
    ("jess", "jessica"),
    ("jessie", "jessica"),
    ("joe", "joseph"),
    ("joey", "joseph"),
    ("jon", "jonathan"),
    ("johnny", "john"),
    ("jack", "john"),
    ("kim", "kimberly"),
    ("larry", "lawrence"),
    ("maggie", "margaret"),
    ("meg", "margaret"),
    ("peggy", "margaret"),
    ("matt", "matthew"),
    ("mike", "michael"),
    ("mick", "michael"),
    ("mickey", "michael"),
    ("nick", "nicholas"),
    ("nicky", "nicholas"),
    ("pat", "patrick"),
    ("paddy", "patrick"),
    ("patty", "patricia"),
    ("trish", "patricia"),
    ("pete", "peter"),
    ("phil", "philip"),
    ("phillip", "philip"),
    ("becky", "rebecca"),
    ("rick", "richard"),
    ("ricky", "richard"),
    ("dick", "richard"),
    ("rich", "richard"),
    ("ron", "ronald"),
    ("ronnie", "ronald"),
    ("sam", "samuel"),
    ("sammy", "samuel"),
    ("sandy", "sandra"),
    ("steve", "stephen"),
    ("steven", "stephen"),
    ("sue", "susan"),
    ("susie", "susan"),
    ("tom", "thomas"),
    ("tommy", "thomas"),
    ("tim", "timothy"),
    ("timmy", "timothy"),
    ("vicky", "victoria"),
    ("vic", "victor"),
    ("bill", "william"),
    ("billy", "william"),
    ("will", "william"),
    ("willy", "william"),
    ("liam", "william"),
    ("zach", "zachary"),
    ("zack", "zachary"),
    ("mandy", "amanda"),
    ("manda", "amanda"),
    ("debbie", "deborah"),
    ("deb", "deborah"),
    ("nate", "nathan"),
    ("nat", "natalie"),
    ("josh", "joshua"),
    ("charlie", "charles"),
    ("chuck", "charles"),
    ("olly", "oliver"),
    ("ollie", "oliver"),
    ("em", "emily"),
    ("emmy", "emily"),
    ("soph", "sophie"),
    ("sophia", "sophie"),
    ("lucy", "lucia"),
    ("jo", "joanna"),
    ("annie", "ann"),
    ("anne", "ann"),
    ("anna", "ann"),
    ("sally", "sarah"),
    ("sara", "sarah"),
    ("ger", "gerald"),
    ("gerry", "gerald"),
    ("jerry", "gerald"),
    ("ray", "raymond"),
    ("len", "leonard"),
    ("lenny", "leonard"),
    ("leo", "leonard"),
    ("gabi", "gabriela"),
    ("gaby", "gabriela"),
    ("pepe", "jose"),
    ("paco", "francisco"),
    ("fran", "francisco"),
    ("dima", "dmitri"),
    ("dmitry", "dmitri"),
    ("sasha", "alexander"),
    ("misha", "mikhail"),
    ("lizzie", "elizabeth"),
    ("peggy", "margaret"),
    ("aleksandr", "alexander"),
    ("muhammad", "mohammed"),
    ("mohamed", "mohammed"),
    ("mohammad", "mohammed"),
    ("mo", "mohammed"),
    ("evgeny", "yevgeny"),
    ("evgeni", "yevgeny"),
    ("zhenya", "yevgeny"),
    ("kit", "christopher"),
    ("becca", "rebecca"),
    ("olya", "olga"),
    ("priya", "priyanka"),
    ("seun", "oluwaseun"),
    ("hanna", "hannah"),
    ("tori", "victoria"),
    ("millie", "amelia"),
    ("amy", "amelia"),
    ("suzie", "susan"),
    ("suzy", "susan"),
    ("ant", "anthony"),
    ("ayesha", "aisha"),
    ("fatimah", "fatima"),
    ("neve", "niamh"),
    ("luke", "lukasz"),
    ("win", "nguyen"),
];

/// The canonical given name for a nickname (`bob` → `robert`); the name itself otherwise.
pub fn canonical_given(token: &str) -> &str {
    NICKNAMES
        .iter()
        .find(|(nick, _)| *nick == token)
        .map(|(_, full)| *full)
        .unwrap_or(token)
}

/// Words that decorate a saved name without naming the person (`Sarah Jones (florist)` keeps `sarah jones`).
fn is_noise(token: &str) -> bool {
    matches!(
        token,
        "mr" | "mrs" | "ms" | "miss" | "dr" | "prof" | "sir" | "jr" | "sr"
    )
}

impl FoldedName {
    /// Folds a display name; `None` when nothing name-like remains (digits only, empty).
    pub fn new(raw: &str) -> Option<FoldedName> {
        let folded = fold(raw);
        let tokens: Vec<String> = folded
            .split(' ')
            .filter(|t| !t.is_empty() && !is_noise(t) && !t.bytes().all(|b| b.is_ascii_digit()))
            .map(|t| canonical_given(t).to_string())
            .collect();
        if tokens.is_empty() || tokens.iter().all(|t| t.chars().count() < 2) {
            return None;
        }
        Some(FoldedName { tokens })
    }

    /// Tokens sorted: the same for `Jones Sarah` and `Sarah Jones`.
    pub fn sorted_key(&self) -> String {
        let mut t: Vec<&str> = self.tokens.iter().map(String::as_str).collect();
        t.sort_unstable();
        t.join(" ")
    }

    pub fn first(&self) -> &str {
        &self.tokens[0]
    }

    pub fn last(&self) -> &str {
        &self.tokens[self.tokens.len() - 1]
    }

    /// Blocking keys: names that can agree share at least one. Exact/nickname/swap agree on
    /// the sorted key; initials and typos after the first letter on `initial|other token`.
    pub fn blocking_keys(&self) -> Vec<String> {
        let mut keys = vec![format!("k:{}", self.sorted_key())];
        if self.tokens.len() >= 3 {
            // A saved name with a tag after it (`Sarah Jones Leeds`) blocks with `Sarah Jones`.
            let mut two = [self.tokens[0].as_str(), self.tokens[1].as_str()];
            two.sort_unstable();
            keys.push(format!("k:{}", two.join(" ")));
        }
        if self.tokens.len() >= 2 {
            let (f, l) = (self.first(), self.last());
            for (a, b) in [(f, l), (l, f)] {
                keys.push(format!("i:{}|{}", &a[..first_char_len(a)], b));
            }
        } else {
            keys.push(format!("g:{}", self.first()));
        }
        keys
    }

    /// How this name agrees with another, if it does.
    pub fn agreement(&self, other: &FoldedName) -> Option<NameAgreement> {
        let (a, b) = (&self.tokens, &other.tokens);
        // Same tokens in any order (compared without building the sorted keys: this runs for
        // every candidate pair).
        let count = |v: &[String], t: &String| v.iter().filter(|x| *x == t).count();
        if a.len() == b.len() && a.iter().all(|t| count(a, t) == count(b, t)) {
            return Some(NameAgreement::Exact);
        }
        // One extra word on one side: a middle name, or a tag the business added to a saved
        // name (`Sarah Jones Leeds`, `Sarah Jones work`).
        let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        if short.len() >= 2 && long.len() == short.len() + 1 && short.iter().all(|t| long.contains(t)) {
            return Some(NameAgreement::Exact);
        }
        if a.len() >= 2 && b.len() >= 2 {
            for (x, y) in [(self, other), (other, self)] {
                // x has an initial where y has the full given name, same family name (either order).
                for (xg, xf) in [(x.first(), x.last()), (x.last(), x.first())] {
                    if xg.chars().count() == 1 {
                        for (yg, yf) in [(y.first(), y.last()), (y.last(), y.first())] {
                            if xf == yf && yg.starts_with(xg) && yg.len() > 1 {
                                return Some(NameAgreement::Initial);
                            }
                        }
                    }
                }
            }
            if let Some(sim) = one_typo_apart(self, other) {
                return Some(NameAgreement::Similar(sim));
            }
            return None;
        }
        let (single, full) = if a.len() == 1 { (self, other) } else { (other, self) };
        if single.tokens.len() == 1
            && full.tokens.len() >= 2
            && full.first() == single.first()
            && single.first().len() >= 2
        {
            return Some(NameAgreement::GivenOnly);
        }
        None
    }
}

/// Same number of tokens, all equal (in some order) but one pair that differs by one typo:
/// a swap of neighbouring letters, or one edit in a word of five letters or more (so
/// `Mark`/`Mary` stay different people). Returns the Jaro-Winkler similarity of the names.
fn one_typo_apart(a: &FoldedName, b: &FoldedName) -> Option<f64> {
    if a.tokens.len() != b.tokens.len() {
        return None;
    }
    let mut rest: Vec<&str> = b.tokens.iter().map(String::as_str).collect();
    let mut unmatched: Vec<&str> = Vec::new();
    for t in &a.tokens {
        match rest.iter().position(|r| r == t) {
            Some(p) => {
                rest.swap_remove(p);
            }
            None => unmatched.push(t),
        }
    }
    let ([x], [y]) = (unmatched.as_slice(), rest.as_slice()) else {
        return None;
    };
    let d = strsim::damerau_levenshtein(x, y);
    let transposed = d == 1 && x.len() == y.len() && {
        let (mut p, mut q): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
        p.sort_unstable();
        q.sort_unstable();
        p == q
    };
    let ok = (transposed && x.len() >= 4) || (d == 1 && x.len().min(y.len()) >= 5);
    let sim = strsim::jaro_winkler(&a.sorted_key(), &b.sorted_key());
    (ok && sim >= SIMILAR_MIN).then_some(sim)
}

fn first_char_len(s: &str) -> usize {
    s.chars().next().map_or(0, char::len_utf8)
}

/// A name read from an email address's local part (`sarah.jones`, `jones_sarah`), when it
/// splits into at least two alphabetic words.
pub fn name_from_local_part(address: &str) -> Option<FoldedName> {
    let local = address.split('@').next()?;
    let words: Vec<&str> = local
        .split(['.', '_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit()))
        .collect();
    if words.len() < 2
        || words
            .iter()
            .any(|w| w.is_empty() || !w.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return None;
    }
    FoldedName::new(&words.join(" "))
}

/// True when an email local part spells the name: `sarah.jones`, `sjones`, `jones.s`,
/// `sarahjones`, `sarah_jones84`.
pub fn local_part_matches(address: &str, name: &FoldedName) -> bool {
    let local: String = address
        .split('@')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    if local.len() < 3 || name.tokens.len() < 2 {
        return false;
    }
    let raw_first = name.first();
    let last = name.last();
    let initial = &raw_first[..first_char_len(raw_first)];
    let mut firsts = vec![raw_first.to_string()];
    // Nickname forms: `bob.smith` for Robert Smith.
    firsts.extend(
        NICKNAMES
            .iter()
            .filter(|(_, full)| *full == raw_first)
            .map(|(n, _)| n.to_string()),
    );
    firsts
        .iter()
        .any(|f| [format!("{f}{last}"), format!("{last}{f}")].contains(&local))
        || local == format!("{initial}{last}")
        || local == format!("{last}{initial}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> FoldedName {
        FoldedName::new(s).unwrap()
    }

    #[test]
    fn folding_drops_diacritics_and_transliterates() {
        assert_eq!(fold("Émilie  Dubois"), "emilie dubois");
        assert_eq!(fold("Jürgen Weiß"), "jurgen weiss");
        assert_eq!(fold("Дмитрий Иванов"), "dmitrii ivanov");
        assert_eq!(fold("O'Brien, Seán"), "obrien sean");
        assert_eq!(n("Łukasz Żółw").tokens, vec!["lukasz", "zolw"]);
    }

    #[test]
    fn swapped_order_and_nicknames_are_the_same_name() {
        assert_eq!(
            n("Jones Sarah").agreement(&n("Sarah Jones")),
            Some(NameAgreement::Exact)
        );
        assert_eq!(n("Bob Smith").agreement(&n("Robert Smith")), Some(NameAgreement::Exact));
        assert_eq!(
            n("SMITH, ROBERT").agreement(&n("bob smith")),
            Some(NameAgreement::Exact)
        );
    }

    #[test]
    fn initials_typos_and_given_only() {
        assert_eq!(n("S. Jones").agreement(&n("Sarah Jones")), Some(NameAgreement::Initial));
        assert_eq!(n("Jones S").agreement(&n("Sarah Jones")), Some(NameAgreement::Initial));
        assert!(matches!(
            n("Sarah Jnoes").agreement(&n("Sarah Jones")),
            Some(NameAgreement::Similar(_))
        ));
        assert_eq!(n("Sarah").agreement(&n("Sarah Jones")), Some(NameAgreement::GivenOnly));
        assert_eq!(
            n("Sarah Jones Leeds").agreement(&n("JONES, Sara")),
            Some(NameAgreement::Exact)
        );
        assert_eq!(n("Sarah Jones").agreement(&n("Sarah Smith")), None);
        assert_eq!(n("Mark Chen").agreement(&n("Mary Chen")), None);
    }

    #[test]
    fn agreeing_names_share_a_blocking_key() {
        for (a, b) in [
            ("S. Jones", "Sarah Jones"),
            ("Sarah Jnoes", "Sarah Jones"),
            ("Jones Sarah", "Sarah Jones"),
        ] {
            let ka = n(a).blocking_keys();
            assert!(n(b).blocking_keys().iter().any(|k| ka.contains(k)), "{a} / {b}");
        }
    }

    #[test]
    fn local_parts_that_spell_the_name() {
        let sarah = n("Sarah Jones");
        for addr in [
            "sarah.jones@x.example",
            "sjones@x.example",
            "jones_sarah@x.example",
            "SarahJones84@x.example",
        ] {
            assert!(local_part_matches(addr, &sarah), "{addr}");
        }
        assert!(local_part_matches("bob.smith@x.example", &n("Robert Smith")));
        assert!(!local_part_matches("info@x.example", &sarah));
        assert_eq!(name_from_local_part("mark.chen@post.example"), Some(n("Mark Chen")));
        assert_eq!(name_from_local_part("info@post.example"), None);
        assert!(FoldedName::new("+44 7700 900123").is_none());
    }
}
