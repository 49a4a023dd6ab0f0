-- Rules that span rows, which column constraints cannot express.

-- A unicast prefix may name the anycast supernet that covers it.
ALTER TABLE "prefixes" ADD CONSTRAINT "prefixes_supernet_fk" FOREIGN KEY ("supernet_id") REFERENCES "prefixes"("id") ON DELETE RESTRICT;
--> statement-breakpoint
-- No unicast block may overlap another (so no block is owned by two edges).
ALTER TABLE "prefixes" ADD CONSTRAINT "prefixes_unicast_no_overlap" EXCLUDE USING gist ("cidr" inet_ops WITH &&) WHERE ("kind" = 'unicast');
--> statement-breakpoint
CREATE FUNCTION catchment_check_supernet() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sup record;
  bad cidr;
BEGIN
  IF NEW.supernet_id IS NOT NULL THEN
    SELECT cidr, kind INTO sup FROM prefixes WHERE id = NEW.supernet_id;
    IF sup.kind <> 'anycast' THEN
      RAISE EXCEPTION 'supernet % of % is not an anycast prefix', sup.cidr, NEW.cidr USING ERRCODE = 'check_violation', CONSTRAINT = 'prefixes_supernet_covers';
    END IF;
    IF NOT (NEW.cidr << sup.cidr) THEN
      RAISE EXCEPTION 'unicast prefix % is not inside its supernet %', NEW.cidr, sup.cidr USING ERRCODE = 'check_violation', CONSTRAINT = 'prefixes_supernet_covers';
    END IF;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.kind = 'anycast' AND NEW.cidr <> OLD.cidr THEN
    SELECT p.cidr INTO bad FROM prefixes p WHERE p.supernet_id = NEW.id AND NOT (p.cidr << NEW.cidr) LIMIT 1;
    IF bad IS NOT NULL THEN
      RAISE EXCEPTION 'supernet % would no longer cover unicast prefix %', NEW.cidr, bad USING ERRCODE = 'check_violation', CONSTRAINT = 'prefixes_supernet_covers';
    END IF;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER prefixes_supernet_covers BEFORE INSERT OR UPDATE ON "prefixes" FOR EACH ROW EXECUTE FUNCTION catchment_check_supernet();
--> statement-breakpoint
CREATE FUNCTION catchment_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON "audit_log" FOR EACH ROW EXECUTE FUNCTION catchment_refuse_change();
--> statement-breakpoint
CREATE TRIGGER snapshots_immutable BEFORE UPDATE ON "snapshots" FOR EACH ROW EXECUTE FUNCTION catchment_refuse_change();
