//! The conformance suite on the memory desk. The same stories run on SQLite
//! and PostgreSQL in the desk's tests (`desk/tests/conformance.rs`).

#[path = "conformance/scenarios.rs"]
mod scenarios;
mod support;

macro_rules! on_the_memory_desk {
    ($($story:ident),* $(,)?) => {$(
        #[test]
        fn $story() {
            scenarios::$story(support::desk());
        }
    )*};
}

every_conformance_story!(on_the_memory_desk);
