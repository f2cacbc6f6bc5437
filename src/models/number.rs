//! Integer fields of the API. The specs type most counts (CPUs, GiB,
//! minutes, pages, sizes, ports) as JSON `number`; each field has one
//! integer type in the crate, the same in parameters and in answers, and
//! answers are decoded tolerantly: a fraction is rounded to the nearest
//! integer and a value out of the type's range is clamped to it, so that
//! no server number makes a decode fail or overflow.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};

/// An integer type a JSON number is decoded into.
pub(crate) trait Integer: Copy {
    /// `value` clamped to the type's range.
    fn clamped(value: i128) -> Self;
}

macro_rules! integer {
    ($($t:ty),*) => {$(
        impl Integer for $t {
            fn clamped(value: i128) -> Self {
                // In range after the clamp: the cast is exact.
                value.clamp(<$t>::MIN as i128, <$t>::MAX as i128) as $t
            }
        }
    )*};
}

integer!(u16, u32, i32, u64, i64);

struct Number<T>(PhantomData<T>);

impl<'de, T: Integer> Visitor<'de> for Number<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::clamped(i128::from(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::clamped(i128::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        // `as` saturates (and takes NaN to 0).
        Ok(T::clamped(v.round() as i128))
    }
}

/// A JSON number as `T` (see the module documentation).
pub(crate) fn int<'de, D: Deserializer<'de>, T: Integer>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(Number(PhantomData))
}

/// `null`, absent or a JSON number as `Option<T>`.
pub(crate) fn opt_int<'de, D: Deserializer<'de>, T: Integer>(d: D) -> Result<Option<T>, D::Error> {
    struct Opt<T>(PhantomData<T>);

    impl<'de, T: Integer> Visitor<'de> for Opt<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            int(d).map(Some)
        }
    }

    d.deserialize_option(Opt(PhantomData))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Sample {
        #[serde(deserialize_with = "super::int")]
        small: u16,
        #[serde(deserialize_with = "super::int")]
        signed: i32,
        #[serde(default, deserialize_with = "super::opt_int")]
        maybe: Option<u64>,
    }

    fn decode(json: &str) -> Result<Sample, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn numbers_are_rounded_and_clamped() {
        assert_eq!(
            decode(r#"{"small": 8080, "signed": -1, "maybe": 3}"#).unwrap(),
            Sample {
                small: 8080,
                signed: -1,
                maybe: Some(3)
            }
        );
        assert_eq!(
            decode(r#"{"small": 1.4658, "signed": 2.5, "maybe": null}"#).unwrap(),
            Sample {
                small: 1,
                signed: 3,
                maybe: None
            }
        );
        assert_eq!(
            decode(r#"{"small": 1e300, "signed": -1e300, "maybe": -7}"#).unwrap(),
            Sample {
                small: u16::MAX,
                signed: i32::MIN,
                maybe: Some(0)
            }
        );
        assert_eq!(
            decode(r#"{"small": 18446744073709551615, "signed": 99999999999}"#).unwrap(),
            Sample {
                small: u16::MAX,
                signed: i32::MAX,
                maybe: None
            }
        );
        assert!(decode(r#"{"small": "1", "signed": 0}"#).is_err());
    }
}
