//! Async or blocking: the same resource handles and builders serve both clients.
//!
//! Every handle and builder has a mode parameter, [`Async`] by default, so `tl.indexes()` on a
//! [`Client`](crate::Client) is an `Indexes` whose methods are `async fn`s. With the `blocking`
//! feature, a [`blocking::Client`](crate::blocking::Client) hands out the same types in mode
//! [`Blocking`](crate::blocking::Blocking): the same calls, returning their result directly,
//! with pages and generated text as iterators and waits as blocking calls.

/// The mode of a handle or builder: [`Async`], or `Blocking` with the `blocking` feature. Sealed.
pub trait Mode: sealed::Sealed + Clone + Copy + std::fmt::Debug + Send + Sync + 'static {}

/// The async mode: methods are `async fn`s, pages and items are `Stream`s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Async;

impl Mode for Async {}

pub(crate) mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Async {}
    #[cfg(feature = "blocking")]
    impl Sealed for crate::blocking::Blocking {}
}

/// Writes the two faces of resource methods implemented once: an `async fn` on the async
/// client's type and, with the `blocking` feature, a blocking `fn` on the blocking client's.
///
/// ```text
/// faces! {
///     impl[] Indexes<Async> | Indexes<Blocking> {
///         /// Retrieves an index.
///         pub fn get(&self, id: impl Into<IndexId>) -> Index => get_impl;
///         /// Every page.
///         pub fn pages(self) -> stream Page<Index> => pages_impl;
///     }
/// }
/// ```
///
/// `get_impl` is a private `async fn` (and `pages_impl` a private `fn` returning a
/// `BoxStream<'static, Result<_>>`) of the type for every mode; the async face awaits it, the
/// blocking face runs it on the blocking client's runtime. The faces return `Result<$ret>`.
macro_rules! faces {
    (impl[$($gen:tt)*] $async_ty:ty | $blocking_ty:ty { $($body:tt)* }) => {
        impl<$($gen)*> $async_ty {
            $crate::mode::faces!(@async $($body)*);
        }
        #[cfg(feature = "blocking")]
        impl<$($gen)*> $blocking_ty {
            $crate::mode::faces!(@blocking $($body)*);
        }
    };
    // ---- async faces
    (@async) => {};
    (@async $(#[$attr:meta])* pub fn $name:ident(&self $(, $arg:ident : $aty:ty)* $(,)?) -> stream $ret:ty => $imp:ident; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn $name(&self $(, $arg: $aty)*) -> futures::stream::BoxStream<'static, $crate::Result<$ret>> {
            self.$imp($($arg),*)
        }
        $crate::mode::faces!(@async $($rest)*);
    };
    (@async $(#[$attr:meta])* pub fn $name:ident(self $(, $arg:ident : $aty:ty)* $(,)?) -> stream $ret:ty => $imp:ident; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn $name(self $(, $arg: $aty)*) -> futures::stream::BoxStream<'static, $crate::Result<$ret>> {
            self.$imp($($arg),*)
        }
        $crate::mode::faces!(@async $($rest)*);
    };
    (@async $(#[$attr:meta])* pub fn $name:ident(&self $(, $arg:ident : $aty:ty)* $(,)?) -> $ret:ty => $imp:ident; $($rest:tt)*) => {
        $(#[$attr])*
        pub async fn $name(&self $(, $arg: $aty)*) -> $crate::Result<$ret> {
            self.$imp($($arg),*).await
        }
        $crate::mode::faces!(@async $($rest)*);
    };
    (@async $(#[$attr:meta])* pub fn $name:ident(self $(, $arg:ident : $aty:ty)* $(,)?) -> $ret:ty => $imp:ident; $($rest:tt)*) => {
        $(#[$attr])*
        pub async fn $name(self $(, $arg: $aty)*) -> $crate::Result<$ret> {
            self.$imp($($arg),*).await
        }
        $crate::mode::faces!(@async $($rest)*);
    };
    // ---- blocking faces
    (@blocking) => {};
    (@blocking $(#[$attr:meta])* pub fn $name:ident(&self $(, $arg:ident : $aty:ty)* $(,)?) -> stream $ret:ty => $imp:ident; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn $name(&self $(, $arg: $aty)*) -> $crate::blocking::Iter<$ret> {
            $crate::blocking::Iter::new(&self.client, self.$imp($($arg),*))
        }
        $crate::mode::faces!(@blocking $($rest)*);
    };
    (@blocking $(#[$attr:meta])* pub fn $name:ident(self $(, $arg:ident : $aty:ty)* $(,)?) -> stream $ret:ty => $imp:ident; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn $name(self $(, $arg: $aty)*) -> $crate::blocking::Iter<$ret> {
            let client = self.client.clone();
            $crate::blocking::Iter::new(&client, self.$imp($($arg),*))
        }
        $crate::mode::faces!(@blocking $($rest)*);
    };
    (@blocking $(#[$attr:meta])* pub fn $name:ident(&self $(, $arg:ident : $aty:ty)* $(,)?) -> $ret:ty => $imp:ident; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn $name(&self $(, $arg: $aty)*) -> $crate::Result<$ret> {
            $crate::blocking::run(&self.client, self.$imp($($arg),*))
        }
        $crate::mode::faces!(@blocking $($rest)*);
    };
    (@blocking $(#[$attr:meta])* pub fn $name:ident(self $(, $arg:ident : $aty:ty)* $(,)?) -> $ret:ty => $imp:ident; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn $name(self $(, $arg: $aty)*) -> $crate::Result<$ret> {
            let client = self.client.clone();
            $crate::blocking::run(&client, self.$imp($($arg),*))
        }
        $crate::mode::faces!(@blocking $($rest)*);
    };
}
pub(crate) use faces;
