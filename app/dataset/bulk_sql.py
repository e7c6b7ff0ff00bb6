"""The SQL of bulk imports (app/dataset/bulk.py): staging tables, set-wise checks, upserts.

Staged rows carry `n`, their record number in the input. Parameters named after the input
(`codes`, `sources`, ...) hold what the same import defines outside the staging tables (its
jurisdictions, sources, features and metrics) and the keys of its records that failed their
own rules (`rejected`): references to them are not reported again.
"""

STAGING = {
    "feature_values": (
        "import_feature_value",
        """n int, jurisdiction_code text, feature_key text, value jsonb, valid_from date,
           valid_to date, note text, confidence text, checked_on date, source_ids text[]""",
    ),
    "observations": (
        "import_observation",
        """n int, jurisdiction_code text, metric_key text, period text, period_start date,
           period_end date, value float8, counterpart_code text, bound text, confidence text,
           checked_on date, note text, source_ids text[]""",
    ),
}

# Per entity: the columns of the natural key (for duplicates) and of the row shown in reports.
KEYS = {
    "feature_values": "jurisdiction_code, feature_key, valid_from",
    "observations": "jurisdiction_code, metric_key, period, counterpart_code",
}

DUPLICATES = """
SELECT n, first, concat_ws('/', {key}) AS shown
  FROM (SELECT n, {key}, min(n) OVER (PARTITION BY {key}) AS first FROM {table}) d
 WHERE n <> first
 ORDER BY n
"""

UNKNOWN_SOURCES = """
SELECT s.n, concat_ws('/', {key}) AS shown, x.slug
  FROM {table} s CROSS JOIN LATERAL unnest(s.source_ids) WITH ORDINALITY AS x(slug, position)
 WHERE x.slug <> ALL(CAST(:sources AS text[]))
   AND NOT EXISTS (SELECT 1 FROM source src WHERE src.slug = x.slug)
 ORDER BY s.n, x.position
"""

OBSERVATION_PROBLEMS = """
WITH m(key, bilateral) AS (
    SELECT * FROM unnest(CAST(:metric_keys AS text[]), CAST(:metric_bilateral AS boolean[]))
    UNION ALL
    SELECT key, bilateral FROM metric WHERE key <> ALL(CAST(:metric_keys AS text[]))
), checked AS (
    SELECT s.n, s.jurisdiction_code, s.metric_key, s.period, s.counterpart_code, s.value,
           j.id IS NULL AND s.jurisdiction_code <> ALL(CAST(:codes AS text[]))
               AS unknown_code,
           s.counterpart_code IS NOT NULL AND c.id IS NULL
               AND s.counterpart_code <> ALL(CAST(:codes AS text[])) AS unknown_counterpart,
           m.key IS NULL AND s.metric_key <> ALL(CAST(:rejected AS text[])) AS unknown_metric,
           m.bilateral
      FROM import_observation s
      LEFT JOIN jurisdiction j ON j.code = s.jurisdiction_code
      LEFT JOIN jurisdiction c ON c.code = s.counterpart_code
      LEFT JOIN m ON m.key = s.metric_key
)
SELECT * FROM checked
 WHERE unknown_code OR unknown_counterpart OR unknown_metric
    OR bilateral <> (counterpart_code IS NOT NULL)
    OR counterpart_code = jurisdiction_code
    OR (value < 0 AND metric_key = ANY(CAST(:logged_metrics AS text[])))
 ORDER BY n
"""

FEATURE_VALUE_PROBLEMS = """
WITH checked AS (
    SELECT s.n, s.jurisdiction_code, s.feature_key, s.valid_from,
           j.id IS NULL AND s.jurisdiction_code <> ALL(CAST(:codes AS text[]))
               AS unknown_code,
           f.id IS NULL AND s.feature_key <> ALL(CAST(:features AS text[])) AS unknown_feature,
           jsonb_typeof(s.value) = 'number' AND (s.value)::numeric < 0
               AND s.feature_key = ANY(CAST(:logged_features AS text[])) AS negative
      FROM import_feature_value s
      LEFT JOIN jurisdiction j ON j.code = s.jurisdiction_code
      LEFT JOIN feature f ON f.key = s.feature_key
)
SELECT * FROM checked WHERE unknown_code OR unknown_feature OR negative ORDER BY n
"""

# Intervals of one jurisdiction and feature must not overlap: the staged ones (the last of
# duplicates), and the stored ones that no staged row replaces, in order of valid_from.
OVERLAPS = """
WITH incoming AS (
    SELECT DISTINCT ON (jurisdiction_code, feature_key, valid_from)
           n, jurisdiction_code, feature_key, valid_from, valid_to
      FROM import_feature_value
     ORDER BY jurisdiction_code, feature_key, valid_from, n DESC
), pairs AS (
    SELECT DISTINCT jurisdiction_code, feature_key FROM incoming
), stored AS (
    SELECT NULL::int AS n, j.code, f.key, v.valid_from, v.valid_to
      FROM pairs p
      JOIN jurisdiction j ON j.code = p.jurisdiction_code
      JOIN feature f ON f.key = p.feature_key
      JOIN feature_value v ON v.jurisdiction_id = j.id AND v.feature_id = f.id
     WHERE NOT EXISTS (SELECT 1 FROM incoming i WHERE i.jurisdiction_code = j.code
                          AND i.feature_key = f.key AND i.valid_from = v.valid_from)
), ordered AS (
    SELECT a.*, lag(n) OVER w AS previous_n, lag(valid_from) OVER w AS previous_from,
           lag(valid_to) OVER w AS previous_to, row_number() OVER w AS position
      FROM (SELECT * FROM incoming UNION ALL SELECT * FROM stored) a
    WINDOW w AS (PARTITION BY jurisdiction_code, feature_key ORDER BY valid_from)
)
SELECT coalesce(n, previous_n) AS blame, jurisdiction_code, feature_key, valid_from,
       previous_from, previous_to
  FROM ordered
 WHERE position > 1 AND (previous_to IS NULL OR previous_to > valid_from)
 ORDER BY blame
"""

# The plan: each staged row with the ids it refers to, the stored row it replaces (with its
# sources), whether it creates, updates or leaves that row as it is, and its row id (new
# rows take theirs from the table's sequence, so their source links need no read-back).
SOURCES_OF = """(SELECT array_agg(src.slug ORDER BY src.slug COLLATE "C")
                   FROM {link} l JOIN source src ON src.id = l.source_id
                  WHERE l.{owner} = {row_id})"""

PLAN = """
CREATE TEMP TABLE {plan} ON COMMIT DROP AS
SELECT s.*, {ids}, t.id AS stored_id, ss.slugs AS stored_sources,
       CASE WHEN t.id IS NULL THEN 'create'
            WHEN ({stored}, ss.slugs) IS NOT DISTINCT FROM ({staged}, s.source_ids)
            THEN 'same' ELSE 'update' END AS status,
       CASE WHEN t.id IS NOT NULL THEN t.id
            WHEN :assign THEN nextval(CAST(:sequence AS regclass)) END AS id
  FROM {table} s
  {joins}
  LEFT JOIN LATERAL (SELECT CASE WHEN t.id IS NOT NULL THEN {sources} END AS slugs) ss ON true
"""

FEATURE_VALUE_PLAN = PLAN.format(
    plan="import_feature_value_plan",
    table="import_feature_value",
    ids="j.id AS jurisdiction_id, f.id AS feature_id",
    stored="t.value, t.valid_to, t.note, t.confidence, t.checked_on",
    staged="s.value, s.valid_to, s.note, s.confidence, s.checked_on",
    joins="""LEFT JOIN jurisdiction j ON j.code = s.jurisdiction_code
  LEFT JOIN feature f ON f.key = s.feature_key
  LEFT JOIN feature_value t ON t.jurisdiction_id = j.id AND t.feature_id = f.id
                           AND t.valid_from = s.valid_from""",
    sources=SOURCES_OF.format(link="feature_value_source", owner="feature_value_id", row_id="t.id"),
)

OBSERVATION_PLAN = PLAN.format(
    plan="import_observation_plan",
    table="import_observation",
    ids="j.id AS jurisdiction_id, m.id AS metric_id, c.id AS counterpart_id",
    stored="t.value, t.bound, t.confidence, t.checked_on, t.note",
    staged="s.value, s.bound, s.confidence, s.checked_on, s.note",
    joins="""LEFT JOIN jurisdiction j ON j.code = s.jurisdiction_code
  LEFT JOIN metric m ON m.key = s.metric_key
  LEFT JOIN jurisdiction c ON c.code = s.counterpart_code
  LEFT JOIN observation t ON t.jurisdiction_id = j.id AND t.metric_id = m.id
                         AND t.period = s.period
                         AND coalesce(t.counterpart_id, 0) = coalesce(c.id, 0)""",
    sources=SOURCES_OF.format(link="observation_source", owner="observation_id", row_id="t.id"),
)

COUNTS = "SELECT status, count(*) FROM {table} GROUP BY status"

# A record as the dataset files (and the change feed) show it.
FEATURE_VALUE_JSON = """jsonb_build_object('jurisdiction_code', {a}.jurisdiction_code,
    'feature_key', {a}.feature_key, 'value', {v}.value, 'valid_from', {v}.valid_from,
    'valid_to', {v}.valid_to, 'note', {v}.note, 'source_ids', to_jsonb({sources}),
    'confidence', {v}.confidence, 'checked_on', {v}.checked_on)"""

OBSERVATION_JSON = """jsonb_build_object('jurisdiction_code', {a}.jurisdiction_code,
    'metric_key', {a}.metric_key, 'period', {a}.period, 'value', {v}.value,
    'counterpart_code', {a}.counterpart_code, 'bound', {v}.bound,
    'source_ids', to_jsonb({sources}), 'confidence', {v}.confidence,
    'checked_on', {v}.checked_on, 'note', {v}.note)"""

# One change per (jurisdiction, feature) whose history changes, with the whole history before
# and after, as the loader records it; written before the rows change.
FEATURE_VALUE_CHANGES = f"""
WITH touched AS (
    SELECT DISTINCT jurisdiction_code, feature_key, jurisdiction_id, feature_id
      FROM import_feature_value_plan WHERE status <> 'same'
), stored AS (
    SELECT t.jurisdiction_code, t.feature_key, v.valid_from,
           {
    FEATURE_VALUE_JSON.format(
        a="t",
        v="v",
        sources=SOURCES_OF.format(
            link="feature_value_source", owner="feature_value_id", row_id="v.id"
        ),
    )
} AS record
      FROM touched t
      JOIN feature_value v ON v.jurisdiction_id = t.jurisdiction_id
                          AND v.feature_id = t.feature_id
), staged AS (
    SELECT p.jurisdiction_code, p.feature_key, p.valid_from,
           {FEATURE_VALUE_JSON.format(a="p", v="p", sources="p.source_ids")} AS record
      FROM import_feature_value_plan p
      JOIN touched t USING (jurisdiction_code, feature_key)
), before AS (
    SELECT jurisdiction_code, feature_key, jsonb_agg(record ORDER BY valid_from) AS history
      FROM stored GROUP BY jurisdiction_code, feature_key
), after AS (
    SELECT jurisdiction_code, feature_key, jsonb_agg(record ORDER BY valid_from) AS history
      FROM (SELECT * FROM staged
            UNION ALL
            SELECT * FROM stored s
             WHERE NOT EXISTS (SELECT 1 FROM staged x
                                WHERE x.jurisdiction_code = s.jurisdiction_code
                                  AND x.feature_key = s.feature_key
                                  AND x.valid_from = s.valid_from)) a
     GROUP BY jurisdiction_code, feature_key
)
INSERT INTO change (actor, entity, entity_key, action, before, after)
SELECT :actor, 'feature_value', t.jurisdiction_code || ':' || t.feature_key,
       CASE WHEN b.history IS NULL THEN 'create' ELSE 'update' END, b.history, a.history
  FROM touched t
  JOIN after a USING (jurisdiction_code, feature_key)
  LEFT JOIN before b USING (jurisdiction_code, feature_key)
 ORDER BY t.jurisdiction_code COLLATE "C", t.feature_key COLLATE "C"
"""

OBSERVATION_CHANGES = f"""
INSERT INTO change (actor, entity, entity_key, action, before, after)
SELECT :actor, 'observation',
       concat_ws(':', p.jurisdiction_code, p.metric_key, p.period, p.counterpart_code),
       p.status,
       CASE WHEN p.status = 'update' THEN {
    OBSERVATION_JSON.format(a="p", v="o", sources="p.stored_sources")
} END,
       {OBSERVATION_JSON.format(a="p", v="p", sources="p.source_ids")}
  FROM import_observation_plan p
  LEFT JOIN observation o ON o.id = p.stored_id
 WHERE p.status <> 'same'
"""

# Updates that close an interval run before those that open one, so the exclusion
# constraint never sees two open intervals at once (as in the loader).
UPDATE_FEATURE_VALUES = """
UPDATE feature_value v
   SET value = p.value, valid_to = p.valid_to, note = p.note, confidence = p.confidence,
       checked_on = p.checked_on
  FROM import_feature_value_plan p
 WHERE p.status = 'update' AND v.id = p.id AND (p.valid_to IS NULL) = :open
"""

INSERT_FEATURE_VALUES = """
INSERT INTO feature_value (id, jurisdiction_id, feature_id, value, valid_from, valid_to, note,
                           confidence, checked_on)
SELECT id, jurisdiction_id, feature_id, value, valid_from, valid_to, note, confidence,
       checked_on
  FROM import_feature_value_plan WHERE status = 'create' ORDER BY n
"""

UPDATE_OBSERVATIONS = """
UPDATE observation o
   SET value = p.value, period_start = p.period_start, period_end = p.period_end,
       bound = p.bound, confidence = p.confidence, checked_on = p.checked_on, note = p.note
  FROM import_observation_plan p
 WHERE p.status = 'update' AND o.id = p.id
"""

INSERT_OBSERVATIONS = """
INSERT INTO observation (id, jurisdiction_id, metric_id, period, period_start, period_end,
                         value, counterpart_id, bound, confidence, checked_on, note)
SELECT id, jurisdiction_id, metric_id, period, period_start, period_end, value,
       counterpart_id, bound, confidence, checked_on, note
  FROM import_observation_plan WHERE status = 'create'
"""

# Source links: replaced for updated rows whose sources changed, written for new rows.
RELINKED = (
    "(p.status = 'create' OR p.status = 'update' AND p.stored_sources IS DISTINCT FROM "
    "p.source_ids)"
)
DELETE_LINKS = f"""
DELETE FROM {{link}} l USING {{plan}} p
 WHERE p.status = 'update' AND {RELINKED} AND l.{{owner}} = p.id
"""
INSERT_LINKS = f"""
INSERT INTO {{link}} ({{owner}}, source_id)
SELECT p.id, src.id
  FROM {{plan}} p CROSS JOIN LATERAL unnest(p.source_ids) AS x(slug)
  JOIN source src ON src.slug = x.slug
 WHERE {RELINKED}
"""
