/**
 * Names the configuration puts into SQL: table names (`limitTableName` …, `persistence.tableName`) and the
 * PostgreSQL schema of a `--state-store` URL. Some statements write them unquoted (migrations, the acquisition
 * function, `search_path`) and the query builder quotes them; the two name the same table only for lower-case
 * names that are not reserved words. `Sync_Limit` would be `sync_limit` unquoted and `"Sync_Limit"` quoted.
 */
const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Words that cannot name a table unquoted on PostgreSQL 17 or MariaDB 10.11 (found by trying every keyword
 * each lists: `pg_get_keywords()`, `information_schema.KEYWORDS`), plus the words MySQL 8 reserves besides.
 */
const RESERVED = new Set(
  (
    'accessible add all alter analyse analyze and any array as asc asensitive asymmetric authorization before between bigint binary blob ' +
    'both by call cascade case cast change char character check collate collation column concurrently condition constraint continue ' +
    'convert create cross cube cume_dist current_catalog current_date current_role current_schema current_time current_timestamp ' +
    'current_user cursor databases day_hour day_microsecond day_minute day_second dec decimal declare default deferrable delayed delete ' +
    'delete_domain_id dense_rank desc describe deterministic distinct distinctrow div do do_domain_ids double drop dual each else elseif ' +
    'empty enclosed end escaped except exists exit explain extract false fetch first_value float float4 float8 for force foreign freeze ' +
    'from full fulltext function grant group grouping groups having high_priority hour_microsecond hour_minute hour_second if ignore ' +
    'ignore_domain_ids ilike in index infile initially inner inout insensitive insert int int1 int2 int3 int4 int8 integer intersect ' +
    'interval into is isnull iterate join json_table key keys kill lag last_value lateral lead leading leave left like limit linear lines ' +
    'load localtime localtimestamp lock long longblob longtext loop low_priority manual master_demote_to_replica master_demote_to_slave ' +
    'master_ssl_verify_server_cert match maxvalue mediumblob mediumint mediumtext middleint minute_microsecond minute_second mod ' +
    'modifies natural no_write_to_binlog not notnull nth_value ntile null numeric of offset on only optimize optionally or order out ' +
    'outer outfile over overlaps page_checksum parallel parse_vcol_expr partition percent_rank placing portion position precision ' +
    'primary procedure purge qualify range rank read read_write reads real recursive ref_system_id references regexp release rename ' +
    'repeat replace require resignal restrict return returning revoke right rlike row row_number rows schemas second_microsecond select ' +
    'sensitive separator session_user set show signal similar smallint some spatial specific sql sql_big_result sql_calc_found_rows ' +
    'sql_small_result sqlexception sqlstate sqlwarning ssl starting stats_auto_recalc stats_persistent stats_sample_pages straight_join ' +
    'substring symmetric system table tablesample terminated then tinyblob tinyint tinytext to trailing trigger trim true undo union ' +
    'unique unlock unsigned update usage use user using utc_date utc_time utc_timestamp values varbinary varchar varcharacter variadic ' +
    'varying verbose when where while window with write xor year_month zerofill'
  ).split(' '),
);

/** How a bad name is described: what is accepted, and why. */
export const SQL_IDENTIFIER_HINT =
  'must be a lower-case SQL identifier: a letter (a-z) or _, then letters, digits or _, at most 63 characters, and not a reserved word such as order or user (it is used both quoted and unquoted, which agree only for such names)';

/** Whether `name` names the same table (or schema) quoted and unquoted on PostgreSQL and MySQL. */
export function isSqlIdentifier(name: string): boolean {
  return SQL_IDENTIFIER.test(name) && !RESERVED.has(name);
}
