-- Customer search at scale (measured with `npm run bench -- search` at 1,000,000 customers).

-- The trigram index also holds the office, so a clerk's search reads only their offices' rows:
-- without it, a fragment common elsewhere ("0200", the code prefix of other offices) made
-- PostgreSQL fetch and discard hundreds of thousands of other offices' rows (0.4 s to 4 s); with
-- it, 40 ms. Searches without an office condition (organisation-wide roles) use it as before.
--
-- New rows wait in a pending list that every search reads in full until the list outgrows
-- gin_pending_list_limit (4 MB by default) or a vacuum merges it. At 4 MB that list costs
-- milliseconds per search, and the planner, seeing it, scans the whole customer table instead
-- (15 ms at 20,000 customers, against 0.1 ms once merged). A 256 kB list keeps inserts batched
-- (about a thousand customers per merge) and searches fast.
create extension if not exists btree_gin;
drop index customer_search;
create index customer_search on customer using gin (office_id, search_key gin_trgm_ops)
  with (gin_pending_list_limit = 256);

-- A clerk's surname search (one character: name LIKE '王%') within their offices: without this
-- index PostgreSQL intersects the name index with every row of the office (200,000 at a million
-- customers, ~20 ms); with it, it reads the first few hundred names of the office in order.
create index customer_office_name on customer (office_id, name text_pattern_ops);
