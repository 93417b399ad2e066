// What the signed-in principal may do, as the system endpoint says (user.role, user.cameras).
//
// A viewer lists and watches; an admin also changes things. The server decides (a viewer's
// change is a 403 whatever the page shows); the page only hides what would be refused: every
// control of a change carries the class `admin-only`, which css/app.css hides while
// <html data-role="viewer">, and routes marked `admin` in app.js leave the navigation.

let principal = null;

/** Remember who signed in and mark the document with their role. */
export function setPrincipal(user) {
  principal = user || null;
  const role = principal && principal.role ? principal.role : "admin";
  document.documentElement.dataset.role = role;
}

/** True unless the signed-in principal is known to be a viewer. */
export function isAdmin() {
  return !principal || principal.role !== "viewer";
}

/** "admin", "viewer · all cameras" or "viewer · cameras #1, #3": for the session footer. */
export function roleLabel(user = principal) {
  if (!user || !user.role) return "";
  if (user.role !== "viewer") return user.role;
  const cameras = Array.isArray(user.cameras) ? user.cameras : null;
  return cameras ? `viewer · camera${cameras.length === 1 ? "" : "s"} ${cameras.map((id) => `#${id}`).join(", ")}` : "viewer · all cameras";
}
