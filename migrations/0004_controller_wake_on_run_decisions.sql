-- The API approves and aborts whole runs (playbook_runs.state): wake the controller then too,
-- so an approved stage is applied at once rather than at the next scheduled tick.
CREATE TRIGGER playbook_runs_wake_controller AFTER UPDATE OF state ON "playbook_runs" FOR EACH ROW WHEN (NEW.state IN ('approved', 'aborted') AND OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION catchment_wake_controller();
