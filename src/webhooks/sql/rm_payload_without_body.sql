-- A delivery payload without the message text: what every pending and future attempt of a
-- message's deliveries sends once the message is deleted (rm_delete_message). renderPayload writes
-- `body` last in `data`, and `data` last, so the text is cut off and the rest kept byte for byte;
-- a payload of another shape is re-serialised without it instead.
create or replace function rm_payload_without_body(p_payload text)
returns text
language plpgsql immutable as $$
declare
  v_json jsonb := p_payload::jsonb;
  v_at integer := position(',"body":' in p_payload);
  v_cut text;
begin
  if v_json -> 'data' -> 'body' is null then
    return p_payload;
  end if;
  if v_at > 0 then
    v_cut := left(p_payload, v_at - 1) || '}}';
    begin
      if v_cut::jsonb = v_json #- '{data,body}' then
        return v_cut;
      end if;
    exception when invalid_text_representation then
      null;
    end;
  end if;
  return (v_json #- '{data,body}')::text;
end $$;
