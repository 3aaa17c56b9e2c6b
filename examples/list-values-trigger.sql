-- Tells partop at once that the values of a list policy changed: a notice on partop_list_values
-- naming the table, sent at commit (so the reconcile it triggers sees the new rows). Put the
-- trigger on the table a policy's list.valuesFrom reads (here public.tenants).
CREATE FUNCTION partop_notify_list_values() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('partop_list_values', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
  RETURN NULL;
END $$;
CREATE TRIGGER tenants_partop_list_values AFTER INSERT OR UPDATE OR DELETE ON public.tenants
  FOR EACH STATEMENT EXECUTE FUNCTION partop_notify_list_values();
