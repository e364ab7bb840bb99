//! What shoppers know of the catalogue: the products they have seen listed, the words they
//! search for, and the typos people make.

use std::sync::RwLock;

use crate::shop::Listed;

/// The products seen in listings so far, shared by every session.
#[derive(Debug, Default)]
pub struct Catalogue {
    known: RwLock<Vec<Listed>>,
}

impl Catalogue {
    /// Adds or refreshes `products` (stock changes as others buy).
    pub fn learn(&self, products: &[Listed]) {
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        for product in products {
            match known.iter_mut().find(|k| k.id == product.id) {
                Some(entry) => *entry = product.clone(),
                None => known.push(product.clone()),
            }
        }
    }

    /// Up to `n` distinct known products, chosen at random; only ones in stock when
    /// `in_stock` is set.
    pub fn pick(&self, rng: &mut fastrand::Rng, n: usize, in_stock: bool) -> Vec<Listed> {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        let mut candidates: Vec<&Listed> = known.iter().filter(|p| !in_stock || p.stock > 0).collect();
        rng.shuffle(&mut candidates);
        candidates.into_iter().take(n).cloned().collect()
    }

    /// A word from a known product's name (at least four letters), as a shopper would type it.
    pub fn search_word(&self, rng: &mut fastrand::Rng) -> Option<String> {
        let product = self.pick(rng, 1, false).pop()?;
        let words: Vec<&str> = product.name.split_whitespace().filter(|w| w.chars().count() >= 4).collect();
        let word = words.get(rng.usize(..words.len().max(1)))?;
        Some(word.to_lowercase())
    }
}

/// `word` with one typo: two neighbouring letters swapped, or one letter doubled.
pub fn with_typo(word: &str, rng: &mut fastrand::Rng) -> String {
    let mut letters: Vec<char> = word.chars().collect();
    if letters.len() < 3 {
        return word.to_owned();
    }
    // Keep the first letter: people rarely get it wrong, and search leans on it.
    let at = rng.usize(1..letters.len() - 1);
    if rng.bool() {
        letters.swap(at, at + 1);
    } else {
        letters.insert(at, letters[at]);
    }
    letters.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(name: &str, stock: i64) -> Listed {
        Listed { id: uuid::Uuid::new_v4(), name: name.to_owned(), stock }
    }

    #[test]
    fn typos_change_one_spot_and_keep_the_first_letter() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..100 {
            let typo = with_typo("ceramic", &mut rng);
            assert_ne!(typo, "ceramic");
            assert!(typo.starts_with('c'), "{typo}");
            assert!((7..=8).contains(&typo.chars().count()), "{typo}");
        }
        assert_eq!(with_typo("ox", &mut rng), "ox", "too short to mangle");
    }

    #[test]
    fn learning_refreshes_stock_and_picking_respects_it() {
        let catalogue = Catalogue::default();
        let mug = product("Ceramic Mug", 0);
        catalogue.learn(&[mug.clone(), product("Desk Lamp", 4)]);
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..20 {
            assert!(catalogue.pick(&mut rng, 2, true).iter().all(|p| p.stock > 0), "sold-out mug never picked");
        }
        catalogue.learn(&[Listed { stock: 9, ..mug.clone() }]);
        assert_eq!(catalogue.pick(&mut rng, 5, true).len(), 2, "restocked mug is known once, now in stock");
        let word = catalogue.search_word(&mut rng).expect("a word");
        assert!(["ceramic", "desk", "lamp"].contains(&word.as_str()), "{word}");
    }
}
