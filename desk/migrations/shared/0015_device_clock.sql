-- How far the desk's clock ran ahead of each device's at its last round
-- that said (ms; negative when the device runs ahead).
ALTER TABLE devices ADD COLUMN clock_offset_ms BIGINT;
