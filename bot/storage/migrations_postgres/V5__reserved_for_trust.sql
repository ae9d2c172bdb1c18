-- V5 is assigned to the trust work (issue 17: a registry of bot messages that quote takes).
-- This placeholder only keeps the version numbers without a gap on the meetings branch; the
-- real V5 replaces it when the branches are merged. It changes nothing.
SELECT 1;
