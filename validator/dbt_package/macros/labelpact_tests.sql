{#- Generic data tests for the column rules dbt does not ship (or ships without quoting).
    Each returns one row per failing row, so dbt's "Got N results" is the failing-row count. -#}

{% test accepted_values(model, column_name, values) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }} not in (
    {%- for value in values %}{{ labelpact.literal(value) }}{{ ", " if not loop.last }}{% endfor -%}
  )
{% endtest %}

{% test pattern(model, column_name, pattern) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is not null
  and not {{ labelpact.regex_search(column_name, pattern) }}
{% endtest %}

{% test between(model, column_name, min=none, max=none) %}
select {{ column_name }} as failing_value
from {{ model }}
where
  {%- if min is not none %} {{ column_name }} < {{ min }}{% endif %}
  {%- if min is not none and max is not none %} or{% endif %}
  {%- if max is not none %} {{ column_name }} > {{ max }}{% endif %}
{% endtest %}

{% test not_in_future(model, column_name) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} > cast({{ dbt.current_timestamp() }} as timestamp)
{% endtest %}

{% test relationship(model, column_name, to, field) %}
select t.{{ column_name }} as failing_value
from {{ model }} as t
left join (select distinct {{ adapter.quote(field) }} as ref_value from {{ to }}) as o
  on o.ref_value = t.{{ column_name }}
where t.{{ column_name }} is not null
  and o.ref_value is null
{% endtest %}

{% test unique_key(model, columns) %}
select
  {%- for c in columns %} {{ adapter.quote(c) }},{% endfor %} count(*) as n_rows
from {{ model }}
group by {% for c in columns %}{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %}
having count(*) > 1
{% endtest %}
