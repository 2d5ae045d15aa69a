-- Priorities and support levels take their one spelling (snake_case).
UPDATE tickets SET priority = lower(priority);
UPDATE tickets SET support_level = CASE support_level
    WHEN 'L1Field' THEN 'l1_field' WHEN 'L2Remote' THEN 'l2_remote' WHEN 'L3Expert' THEN 'l3_expert'
    ELSE support_level END;
