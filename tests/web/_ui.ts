// Steps of the web client's end-to-end tests, as a user does them.

import { findChromium, type Page } from "../_chromium.ts";
import { PASSWORD } from "../_client_proc.ts";

/**
 * The Chromium to test with; undefined skips browser tests, which only
 * happens outside CI (CI sets SOCP_REQUIRE_BROWSER=1: there a missing
 * browser fails the test with this error instead).
 */
export async function browserOrSkip(): Promise<string | undefined> {
  const found = await findChromium();
  if (found) return found;
  if (Deno.env.get("SOCP_REQUIRE_BROWSER") === "1") {
    throw new Error("chromium is not installed (apt-get install chromium)");
  }
  return undefined;
}

/** Signs in as a new identity named `name` (the browser makes the key). */
export async function create(page: Page, name: string): Promise<void> {
  await page.type("#new-name", name);
  await page.type("#new-password", PASSWORD);
  await page.type("#new-repeat", PASSWORD);
  await page.press("Enter");
  await page.waitFor(`!document.getElementById("chat").hidden`, `${name} signed in`, 60_000);
}

/** The nav button of the person or conversation labelled `label`. */
export const person = (label: string): string =>
  `#people button[aria-label^=${JSON.stringify(label)}]`;

/** Waits until the conversation on screen shows a line containing `text`; returns that line. */
export async function line(page: Page, text: string, what: string): Promise<string> {
  const find = `[...document.querySelectorAll("#messages li")].map((li) => li.textContent)
    .find((t) => t.includes(${JSON.stringify(text)}))`;
  await page.waitFor(`!!(${find})`, what);
  return await page.eval<string>(find);
}

/** Sends `text` with the keyboard into the conversation on screen. */
export async function say(page: Page, text: string): Promise<void> {
  await page.type("#text", text);
  await page.press("Enter");
}
