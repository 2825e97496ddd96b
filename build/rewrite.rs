//! Edits of progenitor's output, on the syntax tree.

use quote::ToTokens;
use syn::visit_mut::VisitMut;

/// The integer types typify emits (for `type: integer` with any format and bounds).
const INTEGERS: [&str; 22] = [
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "NonZeroU8",
    "NonZeroU16",
    "NonZeroU32",
    "NonZeroU64",
    "NonZeroU128",
    "NonZeroI8",
    "NonZeroI16",
    "NonZeroI32",
    "NonZeroI64",
    "NonZeroI128",
];

/// `Wrapper<Inner>` → ("Wrapper", Inner) for the last path segment of `ty`.
fn unwrap_generic<'a>(ty: &'a syn::Type, wrapper: &str) -> Option<&'a syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

fn is_integer(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| {
            s.arguments.is_empty() && INTEGERS.contains(&s.ident.to_string().as_str())
        })
}

/// Integers sent as floats (`"width": 1280.0`) must not fail a response: every integer field of a
/// generated type (`T`, `Option<T>` or `Vec<T>` for any integer type `T`) gets a deserializer
/// that also takes an integral float. Driven by the field's Rust type, so a `format: int32` field
/// (`i32`) or a bounded one (`NonZeroU64`) is covered like an `i64`. Returns how many.
pub fn lenient_integers(file: &mut syn::File) -> usize {
    let mut count = 0;
    for item in &mut file.items {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "types" {
            continue;
        }
        let Some((_, items)) = m.content.as_mut() else {
            continue;
        };
        for item in items {
            let syn::Item::Struct(st) = item else {
                continue;
            };
            let syn::Fields::Named(fields) = &mut st.fields else {
                continue;
            };
            for field in &mut fields.named {
                let func = if is_integer(&field.ty) {
                    "int"
                } else if unwrap_generic(&field.ty, "Option").is_some_and(is_integer) {
                    "option_int"
                } else if unwrap_generic(&field.ty, "Vec").is_some_and(is_integer) {
                    "vec_int"
                } else {
                    continue;
                };
                let has_default = field.attrs.iter().any(|a| {
                    a.path().is_ident("serde")
                        && a.to_token_stream()
                            .into_iter()
                            .any(|t| t.to_string().contains("default"))
                });
                let path = format!("crate::raw::lenient::{func}");
                let attr: syn::Attribute = if func != "int" && !has_default {
                    syn::parse_quote!(#[serde(default, deserialize_with = #path)])
                } else {
                    syn::parse_quote!(#[serde(deserialize_with = #path)])
                };
                field.attrs.push(attr);
                count += 1;
            }
        }
    }
    count
}

/// Removes progenitor's `api-version` header: each generated `send` builds a header map, appends
/// `api-version: <info.version>` to it and attaches it. Twelve Labs versions its API in the path
/// and documents no such header. The append goes; when the operation declares no header
/// parameter of its own, the (then empty) map goes too, which spares a map per request.
/// Returns how many `api-version` appends were removed.
pub fn remove_api_version_header(file: &mut syn::File) -> usize {
    struct Remover {
        removed: usize,
    }
    fn is_api_version_append(stmt: &syn::Stmt) -> bool {
        let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else {
            return false;
        };
        call.method == "append"
            && matches!(&*call.receiver, syn::Expr::Path(p) if p.path.is_ident("header_map"))
            && call
                .to_token_stream()
                .to_string()
                .contains("\"api-version\"")
    }
    fn mentions_header_map(stmt: &syn::Stmt) -> bool {
        stmt.to_token_stream()
            .into_iter()
            .any(|t| contains_ident(t, "header_map"))
    }
    fn contains_ident(t: proc_macro2::TokenTree, name: &str) -> bool {
        match t {
            proc_macro2::TokenTree::Ident(i) => i == name,
            proc_macro2::TokenTree::Group(g) => {
                g.stream().into_iter().any(|t| contains_ident(t, name))
            }
            _ => false,
        }
    }
    struct DropHeaders;
    impl VisitMut for DropHeaders {
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            if let syn::Expr::MethodCall(call) = expr
                && call.method == "headers"
                && call.args.len() == 1
                && matches!(call.args.first(), Some(syn::Expr::Path(p)) if p.path.is_ident("header_map"))
            {
                *expr = (*call.receiver).clone();
            }
            syn::visit_mut::visit_expr_mut(self, expr);
        }
    }
    impl VisitMut for Remover {
        fn visit_block_mut(&mut self, block: &mut syn::Block) {
            let before = block.stmts.len();
            block.stmts.retain(|s| !is_api_version_append(s));
            let removed = before - block.stmts.len();
            if removed > 0 {
                self.removed += removed;
                // Left: `let mut header_map = …` and `.headers(header_map)`; anything else means
                // the operation has header parameters of its own.
                let uses = block
                    .stmts
                    .iter()
                    .filter(|s| mentions_header_map(s))
                    .count();
                if uses <= 2 {
                    block.stmts.retain(|s| {
                        !matches!(s, syn::Stmt::Local(l)
                            if matches!(&l.pat, syn::Pat::Ident(p) if p.ident == "header_map"))
                    });
                    for s in &mut block.stmts {
                        DropHeaders.visit_stmt_mut(s);
                    }
                }
            }
            syn::visit_mut::visit_block_mut(self, block);
        }
    }
    let mut r = Remover { removed: 0 };
    r.visit_file_mut(file);
    r.removed
}
