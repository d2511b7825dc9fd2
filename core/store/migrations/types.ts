/** A numbered schema step. Versions are multiples of 10, strictly increasing; the SQL never changes once shipped. */
export interface Migration {
  version: number
  /** short kebab-case name, matches the file name */
  name: string
  /** one or more statements, run with db.exec inside the migration transaction */
  sql: string
}
