//! The frame around every view: tab bar and source health on top, footer at the bottom.
