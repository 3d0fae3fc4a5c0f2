// Identity passwords typed in a terminal (issue 15, item 5), in tmux: a new
// identity refuses an empty password and asks again after a mismatched
// repeat; unlocking allows two more tries after a wrong password.

import { Cluster, waitUntil } from "../_cluster.ts";
import { tmux } from "../_tmux.ts";

const CLIENT = new URL("../../client/main.ts", import.meta.url).pathname;

Deno.test("typed passwords: empty refused, a mismatch asks again, a wrong one may be retried", async () => {
  const cluster = await Cluster.create(0);
  const socket = `socp-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const server = await cluster.server("solo", []);
    const dataDir = `${cluster.dir}/carol`;
    const command = [
      "env NO_COLOR=1",
      Deno.execPath(),
      "run --allow-net --allow-env=SOCP_*",
      `--allow-read=${cluster.dir} --allow-write=${cluster.dir}`,
      CLIENT,
      `--server ${server.url} --user carol --data ${dataDir} --ca ${cluster.certs.caCert}`,
    ].join(" ");
    const screen = () => tmux(socket, "capture-pane", "-p", "-t", "chat");
    const see = (text: string, times = 1) =>
      waitUntil(
        async () => (await screen()).split(text).length - 1 >= times,
        30_000,
        `"${text}" ×${times}`,
      ).catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${await screen()}`);
      });
    const type = async (text: string) => {
      if (text) await tmux(socket, "send-keys", "-t", "chat", "-l", text);
      await tmux(socket, "send-keys", "-t", "chat", "Enter");
    };

    await tmux(socket, "new-session", "-d", "-s", "chat", "-x", "160", "-y", "45", command);
    await see("New identity password:");
    await type("");
    await see("an empty password would leave your key unprotected");
    await see("New identity password:", 2);
    await type("first try");
    await see("Repeat password:");
    await type("first tyr");
    await see("the passwords differ; again");
    await see("New identity password:", 3);
    await type("good password");
    await see("Repeat password:", 2);
    await type("good password");
    await see("connected to");
    await type("/quit");
    await waitUntil(
      async () => !(await tmux(socket, "list-sessions").catch(() => "")).includes("chat"),
      10_000,
      "the client to exit",
    );

    // Again, now unlocking: one wrong password, then the right one.
    await tmux(socket, "new-session", "-d", "-s", "chat", "-x", "160", "-y", "45", command);
    await see("Identity password:");
    await type("bad password");
    await see("wrong password; try again");
    await see("Identity password:", 2);
    await type("good password");
    await see("connected to");
    await type("/quit");
  } finally {
    await tmux(socket, "kill-server").catch(() => {});
    await cluster.close();
  }
});
