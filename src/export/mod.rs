//! The consolidated dataset and platform profiles (issue #8).
