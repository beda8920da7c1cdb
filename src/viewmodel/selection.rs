//! One selection rule for every table and every scrolled text: the cursor is always on a row
//! of the list (or on nothing when the list is empty), whatever key or click moved it.

/// A cursor movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    By(isize),
    First,
    Last,
    /// A row picked directly (a mouse click).
    To(usize),
}

/// `cursor` inside a list of `len` rows.
pub fn clamp(cursor: usize, len: usize) -> usize {
    cursor.min(len.saturating_sub(1))
}

/// The cursor after `m` in a list of `len` rows: never past either end.
pub fn moved(cursor: usize, len: usize, m: Move) -> usize {
    let c = match m {
        Move::By(d) => clamp(cursor, len).saturating_add_signed(d),
        Move::First => 0,
        Move::Last => len.saturating_sub(1),
        Move::To(i) => i,
    };
    clamp(c, len)
}

/// Page-flip scrolling: the first row to draw so that `selected` is on screen with `height` rows.
pub fn page_offset(selected: usize, height: usize) -> usize {
    selected.checked_div(height).map_or(0, |page| page * height)
}

/// For a list of `len` rows shown `height` at a time: the cursor clamped into the list and the
/// first row to draw.
pub fn scroll(len: usize, cursor: usize, height: usize) -> (usize, usize) {
    let cur = clamp(cursor, len);
    (cur, page_offset(cur, height).min(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_never_leaves_the_list() {
        assert_eq!(moved(0, 5, Move::Last), 4);
        assert_eq!(moved(4, 5, Move::By(10)), 4, "PageDown at the end stays on the last row");
        assert_eq!(moved(4, 5, Move::By(-1)), 3, "one press up from the last row");
        assert_eq!(moved(999, 5, Move::By(-1)), 3, "a stale cursor is clamped before it moves");
        assert_eq!(moved(2, 5, Move::By(-10)), 0);
        assert_eq!(moved(3, 0, Move::Last), 0, "an empty list");
        assert_eq!(moved(0, 5, Move::To(9)), 4);
        assert_eq!(scroll(30, 29, 10), (29, 20));
        assert_eq!(scroll(3, 29, 10), (2, 0));
    }
}
