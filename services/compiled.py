"""Queries compiled once per process and then only run.

Django's ORM compiles a queryset's SQL every time it runs it, and for the small lookups that
every request makes (its session, its user, the service of a call) compiling took several
times longer than running: about 0.4 ms against 0.05 ms on SQLite on this machine. Each
query here is still written as an ordinary queryset, so its meaning stays in one place; only
its SQL is kept and run again with new values, and each row turned into a model instance as
`raw()` would, with the column order and converters worked out once.
"""

from django.db import connections, models, router
from django.db.models import Field, sql


class CompiledQuery:
    def __init__(self, model, build, **stand_ins):
        """build(**values) returns a queryset of model; stand_ins are values for it that no
        real query uses, each found again among the compiled parameters and replaced."""
        self.model = model
        self._build = build
        self._stand_ins = stand_ins
        self._statements = {}
        self._readers = {}

    def _statement(self, alias):
        if alias not in self._statements:
            queryset = self._build(**self._stand_ins).using(alias)
            compiler = queryset.query.get_compiler(alias)
            sql, params = compiler.as_sql()
            slots = []
            for param in params:
                names = [name for name, stand_in in self._stand_ins.items()
                         if type(param) is type(stand_in) and param == stand_in]
                slots.append((names[0], None) if names else (None, param))
            # The number of columns, where a pair's row is cut in two (CompiledPair).
            self._statements[alias] = (sql, slots, compiler.col_count)
        return self._statements[alias]

    def _params(self, slots, values):
        return [values[name] if name else constant for name, constant in slots]

    def first(self, kept=None, **values):
        """The first instance the query finds with these values, or None; with kept (a
        services/kept.py KeptRows), from the row kept there while it holds, and a row read
        is kept."""
        alias = router.db_for_read(self.model)
        statement, slots, _width = self._statement(alias)
        params = self._params(slots, values)
        key, taken = _kept_key(kept, self, alias, params)
        if key is not None and (row := _kept_row(kept, key, taken, alias)) is not None:
            return self._readers[alias](row)
        with connections[alias].cursor() as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
            if row is None:
                return None
            read = self._readers.get(alias) or self._reader(alias, statement, cursor.description)
        if key is not None:
            kept.put(key, taken, row)
        return read(row)

    def _reader(self, alias, statement, description):
        """row -> instance, as raw() makes one (the same columns, converters and annotations),
        with what depends only on the query worked out once."""
        connection = connections[alias]
        name_of = connection.introspection.identifier_converter
        columns = [name_of(column[0]) for column in description]
        fields = {name_of(field.column): field for field in self.model._meta.fields}
        init = [(field.attname, columns.index(column)) for column, field in fields.items()
                if column in columns]
        names, positions = [name for name, _ in init], [position for _, position in init]
        annotations = [(column, position) for position, column in enumerate(columns)
                       if column not in fields]
        # An annotation is converted as its expression's output field is (a datetime read
        # from SQLite's text, say).
        annotated = self._build(**self._stand_ins).query.annotations
        cols = [fields[column].get_col(self.model._meta.db_table) if column in fields
                else annotated.get(column) for column in columns]
        compiler = connection.ops.compiler("SQLCompiler")(
            sql.RawQuery(statement, using=alias), connection, alias)
        converters = list(compiler.get_converters(cols).items())
        model = self.model

        def read(row):
            row = list(row)
            for position, (functions, expression) in converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            instance = model.from_db(alias, names, [row[position] for position in positions])
            for column, position in annotations:
                setattr(instance, column, row[position])
            return instance

        read.pk_position = columns.index(name_of(self.model._meta.pk.column))
        self._readers[alias] = read
        return read


class CompiledPair:
    """Two compiled queries of the same database run as one statement, so that a lookup that
    follows another costs no round trip of its own: each finds at most one row, and the second
    comes with the first (LEFT JOIN of the two as subqueries)."""

    def __init__(self, first, second):
        self.queries = (first, second)
        self._statements = {}

    def _statement(self, alias):
        if alias not in self._statements:
            (first, slots, width), (second, more_slots, _) = (
                query._statement(alias) for query in self.queries)
            statement = f"SELECT * FROM ({first}) AS a LEFT JOIN ({second}) AS b ON 1 = 1"
            self._statements[alias] = (statement, slots, more_slots, width)
        return self._statements[alias]

    def _led_statement(self, alias, lead):
        key = (alias, lead)
        if key not in self._statements:
            self._statements[key] = (f"WITH lead AS ({lead}) SELECT * FROM lead LEFT JOIN "
                                     f"({self._statement(alias)[0]}) AS pair ON 1 = 1")
        return self._statements[key]

    def first_after(self, lead, lead_params, lead_width, values, more_values, kept=None):
        """(lead's row, the first query's instance, the second's): each instance None when its
        query finds nothing, both None when the first finds nothing; values and more_values are
        each query's. lead, a statement whose one row of lead_width columns comes first in the
        same round trip (on PostgreSQL, an UPDATE ... RETURNING in a WITH, which runs once
        whatever else is read), or None: none, and lead's row is then empty (None when lead
        finds nothing). kept: as CompiledQuery.first()'s, for a statement without a lead."""
        head, tail = self.queries
        alias = router.db_for_read(head.model)
        statement, slots, more_slots, width = self._statement(alias)
        params = head._params(slots, values) + tail._params(more_slots, more_values)
        key, taken = _kept_key(None if lead is not None else kept, self, alias, params)
        if key is not None and (row := _kept_row(kept, key, taken, alias)) is not None:
            return self._read(alias, (), row, width)
        if lead is not None:
            statement = self._led_statement(alias, lead)
            params = [*lead_params, *params]
        with connections[alias].cursor() as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
            if row is None:
                return None, None, None
            read, read_more = head._readers.get(alias), tail._readers.get(alias)
            if read is None or read_more is None:
                # The row's description, once per process: psycopg builds an object per column
                # every time it is asked (34 here: 32 µs on this machine).
                description = cursor.description[lead_width:]
                head._reader(alias, head._statement(alias)[0], description[:width])
                tail._reader(alias, tail._statement(alias)[0], description[width:])
        row, lead_row = row[lead_width:], row[:lead_width]
        if key is not None:
            kept.put(key, taken, row)
        return self._read(alias, lead_row, row, width)

    def _read(self, alias, lead_row, row, width):
        head, tail = self.queries
        read = head._readers[alias]
        # A query that found nothing has NULL for its primary key, which every row has.
        if row[read.pk_position] is None:
            return lead_row, None, None
        read_more = tail._readers[alias]
        more = None if row[width + read_more.pk_position] is None else read_more(row[width:])
        return lead_row, read(row[:width]), more


def _kept_row(kept, key, taken, alias):
    """The row kept for key, or None; served only with the database's connection as the
    statement would have found it: checked (CONN_HEALTH_CHECKS) and open. A database that went
    away (its server stopped, which ends the connection) then fails here as the statement would
    have, before the request goes on: a call is not sent that could not be recorded."""
    row = kept.get(key, taken)
    if row is not None:
        connection = connections[alias]
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    return row


def _kept_key(kept, query, alias, params):
    """(the key of a row kept in kept, what a reader takes before its statement), or
    (None, None) when nothing is kept."""
    taken = None if kept is None else kept.taken(alias)
    return (None, None) if taken is None else ((query, alias, *params), taken)


# Fields whose value of exactly this type Django's get_db_prep_save hands on unchanged, on
# every backend: a plain str, int, float or bool, the usual values of a row, needs no preparing;
# nor does None, for any field but JSON, which may write it as JSON's null. A foreign key's
# value is its target's: an auto field's, an int.
AS_IS = {models.CharField: str, models.TextField: str, models.FloatField: float,
         models.BooleanField: bool, models.IntegerField: int, models.BigIntegerField: int,
         models.SmallIntegerField: int, models.PositiveIntegerField: int,
         models.PositiveSmallIntegerField: int, models.PositiveBigIntegerField: int,
         models.AutoField: int, models.BigAutoField: int, models.SmallAutoField: int}


_MISSING = object()


class CompiledInsert:
    """model.objects.create(**values) for a model without signals or save() of its own, with
    the INSERT's SQL compiled once per process; field values are prepared as Django does
    (those that need it: AS_IS).

    The instance is built as Django builds the rows it reads, through Model's positional
    __init__, with each related object given by name cached as its descriptor caches it, and
    properties set after. Django's keyword __init__ and every field's get_db_prep_save took
    half of a call's INSERT on SQLite (0.16 of 0.46 ms, timed inside a gunicorn worker; README,
    "Speed"): 75 µs a Call in a warm loop, 44 now."""

    def __init__(self, model):
        self.model = model
        meta = model._meta
        self.fields = [f for f in meta.concrete_fields if f is not meta.pk]
        # Per field: its own pre_save (auto_now), else its value is the attribute's; the type
        # a value of it may be sent as it is (a foreign key's: its target's); whether None may.
        self._plan = [(field, field.attname, type(field).pre_save is not Field.pre_save,
                       AS_IS.get(type(field.target_field if field.is_relation else field)),
                       not isinstance(field, models.JSONField)) for field in self.fields]
        # Where each value goes among Model(*args)'s, by attname, and by name for a relation,
        # whose related object is then cached; the fields whose default fills what is not given.
        self._slots = {}
        for position, field in enumerate(meta.concrete_fields):
            self._slots[field.attname] = (position, None)
            if field.is_relation:
                self._slots[field.name] = (position, field)
        self._defaults = [(position, field) for position, field in enumerate(meta.concrete_fields)
                          if field is not meta.pk]
        self._empty = [None if field is meta.pk else _MISSING for field in meta.concrete_fields]
        self._properties = meta._property_names
        self._statements = {}

    def _statement(self, alias, instance):
        if alias not in self._statements:
            query = sql.InsertQuery(self.model)
            query.insert_values(self.fields, [instance])
            compiler = query.get_compiler(alias)
            compiler.returning_fields = [self.model._meta.pk]
            [(statement, _)] = compiler.as_sql()
            self._statements[alias] = statement
        return self._statements[alias]

    def _instance(self, values):
        """self.model(**values): values of its fields (a relation's by its name, as a related
        object, or by its attname, as a key) and of its properties."""
        args = list(self._empty)  # the primary key None: the INSERT returns it
        related, properties = [], []
        for name, value in values.items():
            slot = self._slots.get(name)
            if slot is None:
                if name not in self._properties:
                    raise TypeError(f"{self.model.__name__}() got an unexpected keyword "
                                    f"argument '{name}'")
                properties.append((name, value))
                continue
            position, relation = slot
            if relation is not None:
                related.append((relation, value))
                value = None if value is None else getattr(value, relation.target_field.attname)
            args[position] = value
        for position, field in self._defaults:
            if args[position] is _MISSING:
                args[position] = field.get_default()
        instance = self.model(*args)
        for relation, value in related:
            relation.set_cached_value(instance, value)
        for name, value in properties:
            setattr(instance, name, value)
        return instance

    def create(self, **values):
        instance = self._instance(values)
        alias = router.db_for_write(self.model)
        connection = connections[alias]
        statement = self._statement(alias, instance)
        params = []
        for field, attname, own_pre_save, as_is, none_as_is in self._plan:
            value = field.pre_save(instance, True) if own_pre_save else getattr(instance, attname)
            if type(value) is not as_is and not (value is None and none_as_is):
                value = field.get_db_prep_save(value, connection=connection)
            params.append(value)
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            instance.pk = cursor.fetchone()[0]
        instance._state.adding, instance._state.db = False, alias
        return instance
