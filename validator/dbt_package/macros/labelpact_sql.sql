{#- labelpact's engine differences for dbt, dispatched per adapter (generated projects and
    other projects using labelpact as a package share these). -#}

{% macro labelpact_literal(value) -%}
  {{ return(adapter.dispatch('labelpact_literal', 'labelpact')(value)) }}
{%- endmacro %}

{% macro default__labelpact_literal(value) -%}
  {%- if value is number and value is not boolean -%}{{ value }}
  {%- elif value is boolean -%}{{ 'true' if value else 'false' }}
  {%- else -%}'{{ value | string | replace("'", "''") }}'
  {%- endif -%}
{%- endmacro %}

{#- Spark and BigQuery read backslash escapes inside string literals. -#}
{% macro spark__labelpact_literal(value) -%}
  {%- if value is string -%}'{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
  {%- else -%}{{ labelpact.default__labelpact_literal(value) }}{%- endif -%}
{%- endmacro %}
{% macro databricks__labelpact_literal(value) -%}{{ labelpact.spark__labelpact_literal(value) }}{%- endmacro %}
{% macro bigquery__labelpact_literal(value) -%}{{ labelpact.spark__labelpact_literal(value) }}{%- endmacro %}

{% macro labelpact_regex_search(expr, pattern) -%}
  {{ return(adapter.dispatch('labelpact_regex_search', 'labelpact')(expr, pattern)) }}
{%- endmacro %}
{% macro default__labelpact_regex_search(expr, pattern) -%}regexp_like({{ expr }}, {{ labelpact.labelpact_literal(pattern) }}){%- endmacro %}
{% macro duckdb__labelpact_regex_search(expr, pattern) -%}regexp_matches({{ expr }}, {{ labelpact.labelpact_literal(pattern) }}){%- endmacro %}
{% macro postgres__labelpact_regex_search(expr, pattern) -%}({{ expr }} ~ {{ labelpact.labelpact_literal(pattern) }}){%- endmacro %}
{% macro redshift__labelpact_regex_search(expr, pattern) -%}({{ expr }} ~ {{ labelpact.labelpact_literal(pattern) }}){%- endmacro %}
{% macro spark__labelpact_regex_search(expr, pattern) -%}({{ expr }} rlike {{ labelpact.labelpact_literal(pattern) }}){%- endmacro %}
{% macro databricks__labelpact_regex_search(expr, pattern) -%}({{ expr }} rlike {{ labelpact.labelpact_literal(pattern) }}){%- endmacro %}
{% macro bigquery__labelpact_regex_search(expr, pattern) -%}regexp_contains({{ expr }}, {{ labelpact.labelpact_literal(pattern) }}){%- endmacro %}
{% macro snowflake__labelpact_regex_search(expr, pattern) -%}(regexp_instr({{ expr }}, {{ labelpact.labelpact_literal(pattern) }}) > 0){%- endmacro %}

