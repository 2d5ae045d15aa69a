-- Priorities and support levels in the tickets' rows take their one
-- spelling (snake_case), as the API now answers and filters.
UPDATE tickets SET priority = CASE priority
    WHEN 'P1' THEN 'p1' WHEN 'P2' THEN 'p2' WHEN 'P3' THEN 'p3' WHEN 'P4' THEN 'p4' ELSE priority END;
UPDATE tickets SET support_level = CASE support_level
    WHEN 'L1Field' THEN 'l1_field' WHEN 'L2Remote' THEN 'l2_remote' WHEN 'L3Expert' THEN 'l3_expert'
    ELSE support_level END;
