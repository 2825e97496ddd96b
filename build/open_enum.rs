//! Enums a response can carry, rendered as **open** Rust enums: the known values plus
//! `Unknown(String)`, so a value added by the server after this release never fails a response
//! and goes back out unchanged. Swapped into progenitor's output with `with_replacement`.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

/// The Rust variant name of an enum value (`text_in_video` → `TextInVideo`, `1080p` → `V1080p`).
pub fn variant_ident(wire: &str) -> String {
    let mut ident = wire.to_upper_camel_case();
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, 'V');
    }
    ident
}

pub struct OpenEnum {
    pub name: String,
    description: String,
    /// (variant identifier, wire value)
    variants: Vec<(String, String)>,
    /// Wire values that end a task, from `x-twelvelabs-terminal`: (value, success?).
    terminal: Vec<(String, bool)>,
}

impl OpenEnum {
    /// From a validated named string-enum schema.
    pub fn new(name: &str, schema: &Value) -> Self {
        let variants = schema["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|w| (variant_ident(w), w.to_owned()))
            .collect();
        let terminal = schema
            .get(crate::TERMINAL)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(value, outcome)| (value.clone(), outcome == "success"))
            .collect();
        Self {
            name: name.to_owned(),
            description: schema["description"]
                .as_str()
                .unwrap_or("")
                .trim()
                .to_owned(),
            variants,
            terminal,
        }
    }

    pub fn render(&self) -> TokenStream {
        let name = format_ident!("{}", self.name);
        let name_str = &self.name;
        let doc = if self.description.is_empty() {
            format!("The `{name_str}` values of the API.")
        } else {
            self.description.clone()
        };
        let open_doc = format!(
            "This enum is **open**: a value this version of the SDK does not know is kept as \
             `Unknown(value)` instead of failing the response, and is sent back unchanged. Match on \
             [`{name_str}::as_str`] to handle values added after this release; never send `Unknown` \
             values you made up."
        );
        let idents: Vec<_> = self
            .variants
            .iter()
            .map(|(i, _)| format_ident!("{i}"))
            .collect();
        let wires: Vec<&str> = self.variants.iter().map(|(_, w)| w.as_str()).collect();
        let wire_docs: Vec<String> = wires.iter().map(|w| format!("`{w}`")).collect();

        let outcome = (!self.terminal.is_empty()).then(|| {
            let arms = self.terminal.iter().map(|(wire, success)| {
                let ident = format_ident!("{}", variant_ident(wire));
                let outcome = if *success {
                    quote!(crate::raw::Outcome::Success)
                } else {
                    quote!(crate::raw::Outcome::Failure)
                };
                quote!(Self::#ident => ::std::option::Option::Some(#outcome),)
            });
            let listed: Vec<String> = self
                .terminal
                .iter()
                .map(|(w, s)| format!("`{w}` ({})", if *s { "success" } else { "failure" }))
                .collect();
            let doc = format!(
                "Whether this value ends the task, and how: {}. `None` for every other value, \
                 including values this version of the SDK does not know (they are treated as \
                 still in progress). Read from `x-twelvelabs-terminal` in `openapi.yaml`.",
                listed.join(", ")
            );
            quote! {
                #[doc = #doc]
                pub fn outcome(&self) -> ::std::option::Option<crate::raw::Outcome> {
                    match self {
                        #(#arms)*
                        _ => ::std::option::Option::None,
                    }
                }
            }
        });

        quote! {
            #[doc = #doc]
            #[doc = ""]
            #[doc = #open_doc]
            #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #(
                    #[doc = #wire_docs]
                    #idents,
                )*
                /// A value this version of the SDK does not know, exactly as the server sent it.
                Unknown(::std::string::String),
            }
            impl #name {
                /// Every value this version of the SDK knows, in the spec's order.
                pub const KNOWN: &'static [&'static str] = &[#(#wires),*];
                /// The wire value.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(Self::#idents => #wires,)*
                        Self::Unknown(v) => v.as_str(),
                    }
                }
                /// Whether this value is one of [`Self::KNOWN`].
                pub fn is_known(&self) -> bool {
                    !matches!(self, Self::Unknown(_))
                }
                #outcome
                fn known(v: &str) -> ::std::option::Option<Self> {
                    ::std::option::Option::Some(match v {
                        #(#wires => Self::#idents,)*
                        _ => return ::std::option::Option::None,
                    })
                }
            }
            impl ::std::convert::From<&str> for #name {
                fn from(v: &str) -> Self {
                    Self::known(v).unwrap_or_else(|| Self::Unknown(v.to_owned()))
                }
            }
            impl ::std::convert::From<::std::string::String> for #name {
                fn from(v: ::std::string::String) -> Self {
                    Self::known(&v).unwrap_or(Self::Unknown(v))
                }
            }
            impl ::std::str::FromStr for #name {
                type Err = ::std::convert::Infallible;
                fn from_str(v: &str) -> ::std::result::Result<Self, Self::Err> {
                    ::std::result::Result::Ok(Self::from(v))
                }
            }
            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
            impl ::serde::Serialize for #name {
                fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                    s.serialize_str(self.as_str())
                }
            }
            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                    ::std::result::Result::Ok(Self::from(
                        <::std::string::String as ::serde::Deserialize>::deserialize(d)?,
                    ))
                }
            }
        }
    }

    /// The `schemars::JsonSchema` impl, when the `schemars` feature is on: any string is valid,
    /// the known values are examples.
    pub fn render_json_schema(&self) -> TokenStream {
        let name = format_ident!("{}", self.name);
        let name_str = &self.name;
        let description = &self.description;
        quote! {
            impl ::schemars::JsonSchema for #name {
                fn schema_name() -> ::std::borrow::Cow<'static, str> {
                    #name_str.into()
                }
                fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                    ::schemars::json_schema!({ "type": "string", "description": #description, "examples": Self::KNOWN })
                }
            }
        }
    }
}
