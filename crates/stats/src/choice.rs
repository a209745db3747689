//! Choices: enums whose variants each have one name, the same in a config file, on the command
//! line and in every output. [`choice!`](crate::choice!) declares one; each gets `as_str()`,
//! `NAMES`, `HELP` (each variant's doc, for `--help`), `ALL`, `FromStr`, `Display` and serde
//! (de)serialisation through its name. A choice is declared once, in the layer that acts on it,
//! and every layer above uses it as it is.

/// Declares a choice (see the [module](mod@crate::choice)).
///
/// ```
/// swp_stats::choice! {
///     /// A colour.
///     pub enum Colour {
///         /// Red light.
///         Red = "red",
///         /// Dark blue.
///         DarkBlue = "dark-blue",
///     }
/// }
/// assert_eq!(Colour::DarkBlue.as_str(), "dark-blue");
/// assert_eq!("red".parse::<Colour>(), Ok(Colour::Red));
/// assert!("green".parse::<Colour>().unwrap_err().contains("red, dark-blue"));
/// assert_eq!(Colour::HELP, &["Red light.", "Dark blue."]);
/// ```
#[macro_export]
macro_rules! choice {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[doc = $doc:literal])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[doc = $doc])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every variant's name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            /// Every variant's description, in declaration order.
            pub const HELP: &'static [&'static str] = &[$( $crate::choice::trimmed(concat!($($doc),*)) ),+];

            /// The variant's name (as configs, flags and outputs write it).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl $crate::choice::Choice for $name {
            const NAMES: &'static [&'static str] = $name::NAMES;
            const HELP: &'static [&'static str] = $name::HELP;

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> ::std::result::Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("`{}` is not one of {}", text, Self::NAMES.join(", "))),
                }
            }
        }

        impl $crate::choice::serde::Serialize for $name {
            fn serialize<S: $crate::choice::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::choice::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::choice::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let text = <String as $crate::choice::serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(<D::Error as $crate::choice::serde::de::Error>::custom)
            }
        }
    };
}

#[doc(hidden)]
pub use serde;

/// What every choice declared by [`choice!`](crate::choice!) offers, for code generic over
/// choices (a command-line parser listing the names with their help).
pub trait Choice: Copy + std::str::FromStr<Err = String> + Send + Sync + 'static {
    /// Every variant's name, in declaration order.
    const NAMES: &'static [&'static str];
    /// Every variant's description, in declaration order.
    const HELP: &'static [&'static str];
    /// The variant's name.
    fn as_str(self) -> &'static str;
}

/// A doc comment's text without the leading space rustdoc keeps (const-evaluable).
#[doc(hidden)]
pub const fn trimmed(text: &'static str) -> &'static str {
    match text.as_bytes() {
        [b' ', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(_) => text,
        },
        _ => text,
    }
}
