/** Small HTTP helpers shared by the routes: the error body the origin also uses ({error, reasons[]}). */
export function reasonsOf(error: { issues: { path: PropertyKey[]; message: string }[] }): string[] {
  return error.issues.slice(0, 20).map((i) => `${i.path.map(String).join('.') || '(request)'}: ${i.message}`);
}
