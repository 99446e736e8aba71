-- When a social worker qualified: in their first year they hold a smaller caseload
-- (the policy's newly_qualified_cap_factor) and no child protection case without a
-- manager's reason. ISO date; NULL when not recorded (treated as experienced).
ALTER TABLE staff ADD COLUMN qualified_on TEXT;
