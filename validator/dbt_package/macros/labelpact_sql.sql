{#- labelpact's engine differences for dbt, dispatched per adapter (generated projects and
    other projects using labelpact as a package share these). -#}

{% macro literal(value) -%}
  {{ return(adapter.dispatch('literal', 'labelpact')(value)) }}
{%- endmacro %}

{% macro default__literal(value) -%}
  {%- if value is number and value is not boolean -%}{{ value }}
  {%- elif value is boolean -%}{{ 'true' if value else 'false' }}
  {%- else -%}'{{ value | string | replace("'", "''") }}'
  {%- endif -%}
{%- endmacro %}

{#- Spark and BigQuery read backslash escapes inside string literals. -#}
{% macro spark__literal(value) -%}
  {%- if value is string -%}'{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
  {%- else -%}{{ labelpact.default__literal(value) }}{%- endif -%}
{%- endmacro %}
{% macro databricks__literal(value) -%}{{ labelpact.spark__literal(value) }}{%- endmacro %}
{% macro bigquery__literal(value) -%}{{ labelpact.spark__literal(value) }}{%- endmacro %}

{% macro regex_search(expr, pattern) -%}
  {{ return(adapter.dispatch('regex_search', 'labelpact')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regex_search(expr, pattern) -%}regexp_like({{ expr }}, {{ labelpact.literal(pattern) }}){%- endmacro %}
{% macro duckdb__regex_search(expr, pattern) -%}regexp_matches({{ expr }}, {{ labelpact.literal(pattern) }}){%- endmacro %}
{% macro postgres__regex_search(expr, pattern) -%}({{ expr }} ~ {{ labelpact.literal(pattern) }}){%- endmacro %}
{% macro redshift__regex_search(expr, pattern) -%}({{ expr }} ~ {{ labelpact.literal(pattern) }}){%- endmacro %}
{% macro spark__regex_search(expr, pattern) -%}({{ expr }} rlike {{ labelpact.literal(pattern) }}){%- endmacro %}
{% macro databricks__regex_search(expr, pattern) -%}({{ expr }} rlike {{ labelpact.literal(pattern) }}){%- endmacro %}
{% macro bigquery__regex_search(expr, pattern) -%}regexp_contains({{ expr }}, {{ labelpact.literal(pattern) }}){%- endmacro %}
{% macro snowflake__regex_search(expr, pattern) -%}(regexp_instr({{ expr }}, {{ labelpact.literal(pattern) }}) > 0){%- endmacro %}

