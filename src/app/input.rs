//! The input line of `/` and `:`: a cursor that moves, the editing keys of a shell (Ctrl-U,
//! Ctrl-W), a history per kind of line, and Tab completion.

/// The longest line accepted, in characters.
const MAX_CHARS: usize = 256;
/// Lines kept per history.
const HISTORY: usize = 100;

/// A line being edited, with its cursor (a character index, 0..=len).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEditor {
    text: String,
    cursor: usize,
}

impl LineEditor {
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The cursor, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.cursor
    }
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
    fn len(&self) -> usize {
        self.text.chars().count()
    }
    fn byte(&self, char_idx: usize) -> usize {
        self.text.char_indices().nth(char_idx).map_or(self.text.len(), |(b, _)| b)
    }
    /// Replace the line; the cursor goes to its end.
    pub fn set(&mut self, text: &str) {
        self.text = text.chars().filter(|c| !c.is_control()).take(MAX_CHARS).collect();
        self.cursor = self.len();
    }
    pub fn clear(&mut self) {
        self.set("");
    }
    pub fn insert(&mut self, c: char) {
        if c.is_control() || self.len() >= MAX_CHARS {
            return;
        }
        let b = self.byte(self.cursor);
        self.text.insert(b, c);
        self.cursor += 1;
    }
    /// Delete the character before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let b = self.byte(self.cursor);
            self.text.remove(b);
        }
    }
    /// Delete the character under the cursor.
    pub fn delete(&mut self) {
        if self.cursor < self.len() {
            let b = self.byte(self.cursor);
            self.text.remove(b);
        }
    }
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.len());
    }
    pub fn home(&mut self) {
        self.cursor = 0;
    }
    pub fn end(&mut self) {
        self.cursor = self.len();
    }
    /// Ctrl-U: delete everything before the cursor.
    pub fn kill_to_start(&mut self) {
        let b = self.byte(self.cursor);
        self.text.replace_range(..b, "");
        self.cursor = 0;
    }
    /// Ctrl-W: delete the word before the cursor, and the spaces after it.
    pub fn kill_word(&mut self) {
        let chars: Vec<char> = self.text.chars().collect();
        let mut start = self.cursor;
        while start > 0 && chars[start - 1] == ' ' {
            start -= 1;
        }
        while start > 0 && chars[start - 1] != ' ' {
            start -= 1;
        }
        let (a, b) = (self.byte(start), self.byte(self.cursor));
        self.text.replace_range(a..b, "");
        self.cursor = start;
    }
    /// The text before the cursor.
    pub fn before_cursor(&self) -> &str {
        &self.text[..self.byte(self.cursor)]
    }
    /// Replace the characters from `start` to the cursor with `with`.
    pub fn replace_before_cursor(&mut self, start: usize, with: &str) {
        let (a, b) = (self.byte(start.min(self.cursor)), self.byte(self.cursor));
        self.text.replace_range(a..b, with);
        self.cursor = start.min(self.cursor) + with.chars().count();
        if self.len() > MAX_CHARS {
            let t = self.text.clone();
            self.set(&t);
        }
    }
}

/// The lines entered before, newest last, and where Up/Down is in them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    entries: Vec<String>,
    /// The entry shown, while browsing with Up/Down.
    pos: Option<usize>,
    /// What was typed before Up was first pressed, given back by Down past the newest entry.
    draft: String,
}

impl History {
    /// Remember an entered line (not an empty one, nor the newest again).
    pub fn push(&mut self, line: &str) {
        let line = line.trim();
        self.pos = None;
        if line.is_empty() || self.entries.last().is_some_and(|l| l == line) {
            return;
        }
        self.entries.push(line.to_string());
        if self.entries.len() > HISTORY {
            self.entries.remove(0);
        }
    }
    /// Up: the entry before the one shown (from `current` when none is shown yet).
    pub fn older(&mut self, current: &str) -> Option<&str> {
        let i = match self.pos {
            None if self.entries.is_empty() => return None,
            None => {
                self.draft = current.to_string();
                self.entries.len() - 1
            }
            Some(i) => i.saturating_sub(1),
        };
        self.pos = Some(i);
        self.entries.get(i).map(String::as_str)
    }
    /// Down: the entry after the one shown, or the line as it was typed.
    pub fn newer(&mut self) -> Option<&str> {
        let i = self.pos?;
        if i + 1 < self.entries.len() {
            self.pos = Some(i + 1);
            self.entries.get(i + 1).map(String::as_str)
        } else {
            self.pos = None;
            Some(&self.draft)
        }
    }
    /// Forget where Up/Down was (a new line is being typed).
    pub fn reset(&mut self) {
        self.pos = None;
    }
    pub fn entries(&self) -> &[String] {
        &self.entries
    }
}

/// Tab completion in progress: the candidates for the word being completed, and which is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    pub candidates: Vec<String>,
    /// The candidate in the line, once Tab has started cycling through them.
    pub shown: Option<usize>,
    /// Where the completed word starts (a character index).
    pub start: usize,
}

/// The longest prefix all `words` share.
pub fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else { return String::new() };
    let mut n = first.len();
    for w in &words[1..] {
        n = n.min(first.bytes().zip(w.bytes()).take_while(|(a, b)| a == b).count());
    }
    while !first.is_char_boundary(n) {
        n -= 1;
    }
    first[..n].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> LineEditor {
        let mut e = LineEditor::default();
        s.chars().for_each(|c| e.insert(c));
        e
    }

    #[test]
    fn the_cursor_moves_and_edits_happen_where_it_is() {
        let mut e = typed("rck-3");
        e.home();
        e.right();
        e.insert('a');
        assert_eq!((e.text(), e.cursor()), ("rack-3", 2));
        e.end();
        e.left();
        e.backspace();
        assert_eq!(e.text(), "rack3");
        e.home();
        e.delete();
        assert_eq!(e.text(), "ack3");
        e.left();
        e.backspace();
        assert_eq!((e.text(), e.cursor()), ("ack3", 0), "nothing before the start");
    }

    #[test]
    fn ctrl_u_and_ctrl_w_delete_like_a_shell() {
        let mut e = typed("sort conntrack  ");
        e.kill_word();
        assert_eq!(e.text(), "sort ");
        e.kill_word();
        assert_eq!(e.text(), "");
        let mut e = typed("r3 cilium");
        e.left();
        e.left();
        e.kill_to_start();
        assert_eq!((e.text(), e.cursor()), ("um", 0));
        let mut e = typed("ä ö");
        e.kill_word();
        assert_eq!(e.text(), "ä ", "multi-byte characters");
    }

    #[test]
    fn history_goes_back_and_forth_and_gives_the_draft_back() {
        let mut h = History::default();
        for l in ["view nodes", "sort cpu", "sort cpu", " "] {
            h.push(l);
        }
        assert_eq!(h.entries(), ["view nodes", "sort cpu"]);
        assert_eq!(h.older("zo"), Some("sort cpu"));
        assert_eq!(h.older("ignored"), Some("view nodes"));
        assert_eq!(h.older(""), Some("view nodes"), "stays on the oldest");
        assert_eq!(h.newer(), Some("sort cpu"));
        assert_eq!(h.newer(), Some("zo"), "past the newest: what was typed");
        assert_eq!(h.newer(), None);
        assert_eq!(common_prefix(&["network".into(), "nodes".into()]), "n");
        assert_eq!(common_prefix(&["theme".into()]), "theme");
    }
}
