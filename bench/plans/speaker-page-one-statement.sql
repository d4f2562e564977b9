-- The speaker page of bench/scenarios/speaker_page.graphql (the 1M data set's speaker
-- 0174876e-…, ten statements) as one statement that builds the answer's JSON: the same
-- statements, stances, claims, appearances, articles, outlets and published verdicts as
-- the ten statements the service issues (bench/out/<label>/speaker_page.sql).
-- `pageInfo` is a constant and the cursors are not the service's encoding: a sketch of
-- the database's share of the work, not a drop-in answer. Measured with pgbench -M
-- prepared against the ten statements; see bench/RESULTS.md.
SELECT json_build_object('speaker', json_build_object(
  'name', sp.name,
  'statements', json_build_object(
    'totalCount', (SELECT count(*) FROM statement c WHERE c.deleted_at IS NULL AND c.speaker_id = sp.id),
    'pageInfo', json_build_object('hasNextPage', false, 'endCursor', NULL),
    'edges', (SELECT coalesce(json_agg(json_build_object(
        'cursor', s.stated_on::text || ':' || s.id::text,
        'node', json_build_object(
          'id', s.id, 'text', s.text, 'statedOn', s.stated_on, 'kind', s.kind,
          'speaker', json_build_object('id', sp.id, 'name', sp.name),
          'stances', (SELECT coalesce(json_agg(json_build_object('stance', st.stance,
                        'claim', json_build_object('id', cl.id, 'text', cl.text)) ORDER BY st.id), '[]')
                      FROM stance st JOIN claim cl ON cl.id = st.claim_id AND cl.deleted_at IS NULL
                      WHERE st.statement_id = s.id),
          'appearances', (SELECT coalesce(json_agg(json_build_object('first', a.first,
                        'article', json_build_object('title', ar.title, 'url', ar.url, 'publishedAt', ar.published_at,
                          'outlet', json_build_object('name', o.name))) ORDER BY a.first DESC, a.id), '[]')
                      FROM appearance a JOIN article ar ON ar.id = a.article_id AND ar.deleted_at IS NULL
                      JOIN outlet o ON o.id = ar.outlet_id AND o.deleted_at IS NULL
                      WHERE a.statement_id = s.id AND a.deleted_at IS NULL),
          'verdicts', (SELECT coalesce(json_agg(json_build_object('ratingLabel', v.rating_label, 'score', v.score,
                        'reviewer', json_build_object('name', r.name)) ORDER BY v.id), '[]')
                      FROM verdict v JOIN outlet r ON r.id = v.reviewer_id
                      WHERE v.statement_id = s.id AND v.deleted_at IS NULL AND v.status = 'PUBLISHED')
        )) ORDER BY s.stated_on, s.id), '[]')
      FROM (SELECT * FROM statement WHERE deleted_at IS NULL AND speaker_id = sp.id
            ORDER BY stated_on, id LIMIT 20) s)
  )))
FROM speaker sp WHERE sp.id = '0174876e-8000-7000-8000-000000000000' AND sp.deleted_at IS NULL;
