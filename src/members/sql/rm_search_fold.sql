-- Text as the recipient search compares it: lower case, accents and other combining marks
-- removed (after canonical decomposition), so "zoe" finds "Zoë" and "ROSSLER" finds "Rössler".
-- Letters that do not decompose (ø, ł, ß) stay as they are.
create or replace function rm_search_fold(p_text text)
returns text
language sql immutable parallel safe as $$
select lower(regexp_replace(normalize(p_text, NFD),
  '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g'))
$$;
