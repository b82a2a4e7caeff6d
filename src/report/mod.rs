//! Context-loss reports and timelines over the matched workspace (issue #7).
