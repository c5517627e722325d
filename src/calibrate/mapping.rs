//! From SSDA903 placement codes (PLACE, and PLACE_PROVIDER where it decides
//! in-house against independent) to the config's placement types.
//!
//! The default mapping, overridden key by key by a base config's
//! `[calibration.mapping]` (keys `U4` or `U4/PR4`; a code-and-provider key
//! wins over a code key):
//!
//! | Placement type | Codes |
//! |---|---|
//! | `kinship` | U1, U2, U3 (connected persons) |
//! | `inhouse_fostering` | U4, U5, U6 with the council's own or another public provider (PR1–PR3), or no provider given |
//! | `ifa` | U4, U5, U6 with a private or voluntary provider (PR4, PR5) |
//! | `inhouse_residential` | K2, R1 with a public provider (PR1–PR3), or none given |
//! | `external_residential` | K2, R1 with a private or voluntary provider (PR4, PR5) |
//! | `secure` | K1 |
//! | `supported` | H5, K3, P2 (semi-independent and supported accommodation) |
//! | `placed_with_parents` | P1 |
//! | `adoption` | A3, A4, A5, A6 (placed for adoption) |
//! | `other` | P3, R2, R3, R5, S1, T0–T4, Z1 |

use indexmap::IndexMap;

/// The default placement types: id, label.
pub const DEFAULT_PLACEMENTS: [(&str, &str); 10] = [
    ("kinship", "Kinship / connected carers"),
    ("inhouse_fostering", "In-house fostering"),
    ("ifa", "Independent fostering agency"),
    ("inhouse_residential", "In-house children's homes"),
    ("external_residential", "External children's homes"),
    ("secure", "Secure children's homes"),
    ("supported", "Supported / semi-independent accommodation"),
    ("placed_with_parents", "Placed with parents"),
    ("adoption", "Placed for adoption"),
    ("other", "Other placements"),
];

/// Codes → placement ids.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// `U4` or `U4/PR4` → placement id.
    keys: IndexMap<String, String>,
}

impl Default for Mapping {
    fn default() -> Mapping {
        let mut keys = IndexMap::new();
        let mut put = |codes: &[&str], id: &str| {
            for c in codes {
                keys.insert(c.to_string(), id.to_string());
            }
        };
        put(&["U1", "U2", "U3"], "kinship");
        put(&["U4", "U5", "U6"], "inhouse_fostering");
        put(
            &["U4/PR4", "U4/PR5", "U5/PR4", "U5/PR5", "U6/PR4", "U6/PR5"],
            "ifa",
        );
        put(&["K2", "R1"], "inhouse_residential");
        put(
            &["K2/PR4", "K2/PR5", "R1/PR4", "R1/PR5"],
            "external_residential",
        );
        put(&["K1"], "secure");
        put(&["H5", "K3", "P2"], "supported");
        put(&["P1"], "placed_with_parents");
        put(&["A3", "A4", "A5", "A6"], "adoption");
        put(
            &[
                "P3", "R2", "R3", "R5", "S1", "T0", "T1", "T2", "T3", "T4", "Z1",
            ],
            "other",
        );
        Mapping { keys }
    }
}

impl Mapping {
    /// The default mapping with `overrides` (from `[calibration.mapping]`)
    /// applied key by key.
    pub fn with_overrides(overrides: &IndexMap<String, String>) -> Mapping {
        let mut m = Mapping::default();
        for (k, v) in overrides {
            m.keys.insert(k.to_ascii_uppercase(), v.clone());
        }
        m
    }

    /// The placement id of a code and provider: the code-and-provider key
    /// if there is one, else the code's.
    pub fn placement_of(&self, place: &str, provider: &str) -> Option<&str> {
        self.keys
            .get(&format!("{place}/{provider}"))
            .or_else(|| self.keys.get(place))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_decides_in_house_against_independent() {
        let m = Mapping::default();
        assert_eq!(m.placement_of("U4", "PR1"), Some("inhouse_fostering"));
        assert_eq!(m.placement_of("U5", "PR4"), Some("ifa"));
        assert_eq!(m.placement_of("U6", ""), Some("inhouse_fostering"));
        assert_eq!(m.placement_of("K2", "PR5"), Some("external_residential"));
        assert_eq!(m.placement_of("R1", "PR2"), Some("inhouse_residential"));
        assert_eq!(m.placement_of("K1", "PR4"), Some("secure"));
        assert_eq!(m.placement_of("U2", "PR1"), Some("kinship"));
        assert_eq!(m.placement_of("A5", ""), Some("adoption"));
        assert_eq!(m.placement_of("XX", ""), None);
    }

    #[test]
    fn overrides_win_key_by_key() {
        let mut o = IndexMap::new();
        o.insert("u4/pr2".to_string(), "ifa".to_string());
        o.insert("P1".to_string(), "other".to_string());
        let m = Mapping::with_overrides(&o);
        assert_eq!(m.placement_of("U4", "PR2"), Some("ifa"));
        assert_eq!(m.placement_of("U4", "PR1"), Some("inhouse_fostering"));
        assert_eq!(m.placement_of("P1", ""), Some("other"));
    }
}
