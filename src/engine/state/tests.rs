use super::*;

#[test]
fn new_categories_get_stable_codes_then_share_an_overflow_code() {
    let mut known = NewCategories::default();
    assert_eq!(known.code(5, "x".into(), usize::MAX), 5);
    assert_eq!(known.code(5, "y".into(), usize::MAX), 6);
    assert_eq!(known.code(5, "x".into(), usize::MAX), 5);
    for i in 0..MAX_NEW_CATEGORIES {
        known.code(5, format!("v{i}"), usize::MAX);
    }
    assert_eq!(known.codes.len() as u32, MAX_NEW_CATEGORIES);
    assert_eq!(
        known.code(5, "late".into(), usize::MAX),
        5 + MAX_NEW_CATEGORIES
    );
    const { assert!(5 + MAX_NEW_CATEGORIES < crate::labelled::NO_CLASS) };
}

#[test]
fn new_category_text_is_bounded_in_bytes() {
    let mut known = NewCategories::default();
    assert_eq!(known.code(0, "a".repeat(600), 1000), 0);
    assert_eq!(known.code(0, "b".repeat(600), 1000), MAX_NEW_CATEGORIES);
    assert_eq!(known.code(0, "c".repeat(400), 1000), 1);
    assert_eq!(known.bytes, 1000);
}
