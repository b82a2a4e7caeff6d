//! `omnitrail gen`: deterministic synthetic multi-channel exports with ground truth (issue #5).
