-- Record data the DNS server could not encode, and a CNAME beside other data or at the apex
-- (RFC 1034 §3.6.2, RFC 2181 §10.1), refused by the database itself. The full per-type rules
-- (number ranges, quoting) are packages/core records.ts; this is their shape.
CREATE FUNCTION catchment_inet_family(v text) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF position('/' in v) > 0 THEN RETURN NULL; END IF;
  RETURN family(v::inet);
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;
--> statement-breakpoint
-- NOT VALID: rows written before this rule are left for `catchment import` to correct.
ALTER TABLE "records" ADD CONSTRAINT "records_value_format" CHECK (CASE "type"
  WHEN 'A' THEN coalesce(catchment_inet_family("value") = 4, false) AND "value" ~ '^[0-9]{1,3}(\.[0-9]{1,3}){3}$'
  WHEN 'AAAA' THEN coalesce(catchment_inet_family("value") = 6, false)
  WHEN 'MX' THEN "value" ~ '^\s*[0-9]{1,5}\s+\S+\s*$'
  WHEN 'SRV' THEN "value" ~ '^\s*[0-9]{1,5}\s+[0-9]{1,5}\s+[0-9]{1,5}\s+\S+\s*$'
  WHEN 'CAA' THEN "value" ~ '^\s*[0-9]{1,3}\s+[A-Za-z0-9]{1,15}\s+\S'
  WHEN 'CNAME' THEN "value" ~ '^\s*\S+\s*$'
  WHEN 'NS' THEN "value" ~ '^\s*\S+\s*$'
  WHEN 'PTR' THEN "value" ~ '^\s*\S+\s*$'
  ELSE length(btrim("value")) > 0
END) NOT VALID;
--> statement-breakpoint
CREATE FUNCTION catchment_check_cname() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  apex text;
BEGIN
  -- Writers of one owner name are serialised, so two concurrent inserts cannot both pass.
  PERFORM pg_advisory_xact_lock(hashtext('records:' || NEW.zone_id || ':' || NEW.name));
  IF NEW.type = 'CNAME' THEN
    SELECT name INTO apex FROM zones WHERE id = NEW.zone_id;
    IF apex = NEW.name THEN
      RAISE EXCEPTION 'a CNAME cannot be at the zone apex %', NEW.name USING ERRCODE = 'check_violation', CONSTRAINT = 'records_cname_alone';
    END IF;
    IF EXISTS (SELECT 1 FROM records WHERE zone_id = NEW.zone_id AND name = NEW.name AND id <> NEW.id) THEN
      RAISE EXCEPTION 'a CNAME at % cannot coexist with other data', NEW.name USING ERRCODE = 'check_violation', CONSTRAINT = 'records_cname_alone';
    END IF;
  ELSIF EXISTS (SELECT 1 FROM records WHERE zone_id = NEW.zone_id AND name = NEW.name AND type = 'CNAME' AND id <> NEW.id) THEN
    RAISE EXCEPTION '% has a CNAME: no other data may be added there', NEW.name USING ERRCODE = 'check_violation', CONSTRAINT = 'records_cname_alone';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER records_cname_alone BEFORE INSERT OR UPDATE ON "records" FOR EACH ROW EXECUTE FUNCTION catchment_check_cname();
