// How the store reads PostgreSQL values. bigint (count(*), sums, *_us columns) and numeric (sum over
// bigint) arrive as strings by default; every value this schema holds is below 2^53 (microsecond
// timestamps, byte and packet counts), so they are read as numbers. Passed per pool, not set globally.
import { types } from 'pg';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

export const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
    return format === 'binary' ? types.getTypeParser(oid, 'binary') : types.getTypeParser(oid, 'text');
  }) as typeof types.getTypeParser,
};
