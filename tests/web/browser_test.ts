// The web client end to end, in a real headless Chromium against a real
// two-server mesh over TLS: a browser user on each server (one identity
// made in the browser, one imported from the terminal client's file), DMs
// both ways, #public, a file byte for byte, a chat with a terminal client,
// export, reload with the stored identity, a wrong password, phone width.
// Set SOCP_SCREENSHOTS=docs/images to refresh the screenshots in docs/.

import assert from "node:assert/strict";
import { IDENTITY_FILE } from "../../client/deno.ts";
import { openIdentity } from "../../client/keystore.ts";
import { randomBytes } from "../_bytes.ts";
import { Cluster, fixtureKeys } from "../_cluster.ts";
import { ClientProcess, PASSWORD, provisionIdentity } from "../_client_proc.ts";
import { Chromium, type Page } from "../_chromium.ts";
import { browserOrSkip, create, line, person, say } from "./_ui.ts";

const chromium = await browserOrSkip();
const SHOTS = Deno.env.get("SOCP_SCREENSHOTS");

Deno.test({
  name: "web client: two browsers on two servers, a terminal client, files, reload",
  ignore: chromium === undefined,
  async fn() {
    const { cluster, nodes: [s1, s2] } = await Cluster.mesh(["s1", "s2"]);
    const browser = await Chromium.launch(chromium!, cluster.certs.key);
    let carol: ClientProcess | undefined;
    const pages: Page[] = [];
    try {
      const alice = await browser.page(`https://127.0.0.1:${s1.port}/`);
      const bob = await browser.page(`https://127.0.0.1:${s2.port}/`);
      pages.push(alice, bob);

      // Login view: nothing stored yet, so only "New identity" and "Import" are offered.
      await alice.waitFor(`!document.getElementById("login").hidden`, "login view");
      assert.equal(await alice.eval(`document.getElementById("unlock-section").hidden`), true);
      await alice.viewport(1000, 640);

      // Bob brings the identity file of the terminal client and unlocks it here.
      const bobDir = `${cluster.dir}/bob-terminal`;
      await provisionIdentity(bobDir, "Bob", await fixtureKeys(1));
      await bob.setFiles("#import", [`${bobDir}/${IDENTITY_FILE}`]);
      await bob.waitFor(`document.getElementById("identity").options.length === 1`, "import");
      await bob.type("#unlock-password", PASSWORD);
      await bob.press("Enter");
      await create(alice, "Alice");
      await bob.waitFor(`!document.getElementById("chat").hidden`, "Bob signed in");

      // Presence across the mesh; DMs both ways, verified.
      await alice.waitFor(
        `!!document.querySelector(${JSON.stringify(person("Bob"))})`,
        "Bob listed",
      );
      await bob.waitFor(
        `!!document.querySelector(${JSON.stringify(person("Alice"))})`,
        "Alice listed",
      );
      await alice.click(person("Bob"));
      await say(alice, "hello bob");
      await bob.waitFor(
        `document.querySelector(${JSON.stringify(person("Alice"))}).ariaLabel.includes("1 unread")`,
        "Bob sees one unread",
      );
      await bob.click(person("Alice"));
      assert.match(await line(bob, "hello bob", "Bob gets the DM"), /Alice hello bob ✓$/);
      await say(bob, "hi alice");
      assert.match(await line(alice, "hi alice", "Alice gets the reply"), /Bob hi alice ✓$/);
      const about = await alice.text("#about");
      assert.match(about, /key [0-9a-f]{64}/, "the person's full key fingerprint is shown");

      // #public, reached with the keyboard alone: Tab from the top of the page to its button.
      await alice.eval(`document.activeElement.blur()`);
      for (let i = 0; i < 8; i++) {
        await alice.press("Tab");
        if (await alice.eval(`document.activeElement?.dataset?.key === "#public"`)) break;
      }
      await alice.press("Enter");
      await alice.waitFor(`document.getElementById("title").textContent === "#public"`, "#public");
      await say(alice, "hello everyone");
      await line(alice, "you hello everyone", "Alice posts to #public");
      await bob.click(person("#public"));
      assert.match(
        await line(bob, "hello everyone", "Bob reads #public"),
        /Alice hello everyone ✓/,
      );

      // A file dropped onto #public reaches Bob there.
      await alice.eval(`(() => {
        const data = new DataTransfer();
        data.items.add(new File(["dropped for all"], "notes.txt", { type: "text/plain" }));
        const pane = document.getElementById("conversation");
        for (const type of ["dragover", "drop"]) {
          pane.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
        }
      })()`);
      await bob.waitFor(
        `[...document.querySelectorAll("#messages a.download")].some((a) => a.download === "notes.txt")`,
        "the dropped file in #public",
      );
      await bob.click(`#messages a.download[download="notes.txt"]`);
      assert.equal(
        new TextDecoder().decode(await browser.downloaded("notes.txt")),
        "dropped for all",
      );

      // A file, Alice → Bob, picked with the file input; Bob downloads it after the checks.
      const bytes = randomBytes(300_000);
      const path = `${cluster.dir}/report.bin`;
      await Deno.writeFile(path, bytes);
      await alice.click(person("Bob"));
      await alice.setFiles("#attach", [path]);
      await line(alice, "report.bin", "Alice sees her upload");
      await bob.click(person("Alice"));
      await bob.waitFor(
        `!!document.querySelector("#messages a.download")`,
        "Bob's download link",
        30_000,
      );
      assert.match(await line(bob, "report.bin", "file line"), /sha256 [0-9a-f]{16}…/);
      await bob.click("#messages a.download");
      assert.deepEqual(await browser.downloaded("report.bin"), bytes);
      await line(alice, "sent", "Alice sees the upload finished");

      // s2 restarts: Bob's tab says so, reconnects with backoff, and finds Alice again.
      const statuses = bob.watch(`document.getElementById("status").textContent`);
      await s2.stop();
      await s2.restart();
      await bob.waitFor(
        `document.getElementById("status").dataset.kind === "online" &&
          !!document.querySelector(${JSON.stringify(person("Alice"))})`,
        "Bob back after the restart",
        40_000,
      );
      statuses.stop();
      assert.ok(
        statuses.seen.some((s) => /^offline: .*; reconnecting in \d+ s$/.test(s)),
        statuses.seen.join("\n"),
      );

      // A terminal client on s2 and the browser user on s1 chat both ways.
      carol = await ClientProcess.start(cluster, s2, "Carol", await fixtureKeys(2));
      await alice.waitFor(
        `!!document.querySelector(${JSON.stringify(person("Carol"))})`,
        "Carol listed",
      );
      await carol.send("/tell Alice hi from the terminal");
      await alice.waitFor(
        `document.querySelector(${JSON.stringify(person("Carol"))}).ariaLabel.includes("unread")`,
        "Alice sees Carol's DM arrive",
      );
      await alice.click(person("Carol"));
      assert.match(await line(alice, "hi from the terminal", "Carol → Alice"), /✓$/);
      await say(alice, "hi from the browser");
      const dm = await carol.next((e) => e.event === "dm" && e.text === "hi from the browser");
      assert.equal([dm.from_name, dm.verified].join(), "Alice,true");

      if (SHOTS) await Deno.writeFile(`${SHOTS}/web-chat.png`, await alice.screenshot());

      // Alice's exported identity opens in the terminal client's keystore code.
      await alice.click("#sign-out");
      await alice.waitFor(`!document.getElementById("login").hidden`, "signed out");
      await alice.click("#export");
      const exported = JSON.parse(
        new TextDecoder().decode(await browser.downloaded(IDENTITY_FILE)),
      );
      assert.equal(exported.iter, 600_000);
      assert.equal((await openIdentity(exported, PASSWORD)).id, exported.user_id);

      // A reload finds the stored identity: a wrong password is refused, the right one unlocks.
      await alice.reload();
      await alice.waitFor(
        `!document.getElementById("unlock-section").hidden`,
        "stored identity offered",
      );
      assert.match(await alice.text("#identity"), /^Alice \([0-9a-f]{8}\)$/);
      if (SHOTS) await Deno.writeFile(`${SHOTS}/web-login.png`, await alice.screenshot());
      await alice.type("#unlock-password", "not the password");
      await alice.press("Enter");
      await alice.waitFor(`document.getElementById("login-error").textContent !== ""`, "refusal");
      assert.match(await alice.text("#login-error"), /wrong password/);
      assert.equal(await alice.eval(`document.getElementById("chat").hidden`), true);
      await alice.type("#unlock-password", PASSWORD);
      await alice.press("Enter");
      await alice.waitFor(
        `document.getElementById("status").dataset.kind === "online"`,
        "back online",
      );
      await alice.waitFor(
        `!!document.querySelector(${JSON.stringify(person("Bob"))})`,
        "Bob again",
      );

      // Usable at phone width: nothing wider than the screen.
      await alice.viewport(390, 780);
      const wide = await alice.eval<string[]>(`[...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > 390 && el.offsetParent !== null)
        .map((el) => el.tagName + "#" + el.id + "." + el.className)`);
      assert.deepEqual(wide, [], "every element fits a 390 px screen");

      assert.deepEqual([...alice.errors, ...bob.errors], [], "no uncaught errors in the pages");
    } catch (e) {
      // What each page showed, to tell a UI failure from a protocol one.
      for (const page of pages) {
        console.error(await page.eval(`document.body.innerText`).catch(String), page.errors);
      }
      throw e;
    } finally {
      await carol?.quit();
      await browser.close();
      await cluster.close();
    }
  },
});
