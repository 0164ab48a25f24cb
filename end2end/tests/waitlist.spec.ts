import { expect, test } from "@playwright/test";
import { confirmHold, dayFrom, freeTimes, newCustomer, SECOND_URL, waitForMail } from "./helpers";

const where = SECOND_URL ? ", each on its own app instance" : "";

for (const javaScriptEnabled of [true, false]) {
  test(`JavaScript ${javaScriptEnabled ? "on" : "off"}: the one who lost a time joins its waitlist from the banner; when it is cancelled it is held for them, they are emailed and book it${where}`, async ({ browser }) => {
    const [a, b] = await Promise.all([
      browser.newContext({ javaScriptEnabled }),
      browser.newContext(SECOND_URL ? { javaScriptEnabled, baseURL: SECOND_URL } : { javaScriptEnabled }),
    ]);
    const [pa, pb] = await Promise.all([a.newPage(), b.newPage()]);
    const [, waiter] = await Promise.all([newCustomer(pa, "Wren"), newCustomer(pb, "Yves")]);
    // Ben's head massage, on days of this test's own.
    const url = await dayFrom(pa, 1, "service=1&resource=2", javaScriptEnabled ? 30 : 33);
    await pb.goto(url);
    const slots = freeTimes(pa);
    const label = (await slots.nth((await slots.count()) - 1).getAttribute("aria-label"))!;
    const time = label.match(/(\d\d:\d\d)/)![1];

    // Wren books it; Yves, on the page from before, chooses it too.
    await pa.getByRole("button", { name: label, exact: true }).click();
    await confirmHold(pa);
    await pb.getByRole("button", { name: label, exact: true }).click();
    const banner = pb.getByRole("alert").filter({ hasText: "just taken" });
    await expect(banner).toBeVisible();
    // The grid below has reloaded (the time shows as taken): with
    // JavaScript, the banner is drawn again with it.
    await expect(pb.getByRole("button", { name: `${label}, taken`, exact: true })).toBeVisible();
    const join = banner.getByRole("region", { name: /^Join the waitlist for / });
    await join.getByLabel("Earliest start (optional)").fill(time);
    await join.getByLabel("Latest start (optional)").fill(time);
    await expect(join.getByLabel("Earliest start (optional)")).toHaveValue(time);
    await expect(join.getByLabel("Latest start (optional)")).toHaveValue(time);
    await join.getByRole("button", { name: "Join the waitlist" }).click();
    await expect(pb).toHaveURL(/\/bookings\?waiting=\d+/);
    await expect(pb.getByRole("status")).toHaveText(/You are on the waitlist/);
    const waitlist = pb.getByRole("region", { name: "Waitlist" });
    await expect(waitlist.getByText("Waiting: you are next in line.")).toBeVisible();
    await expect(waitlist.getByText(`starting ${time} to ${time}`)).toBeVisible();

    // Wren cancels: the time is Yves's to confirm, and Yves is told.
    await pa.goto("/bookings");
    await pa.getByRole("link", { name: /^Cancel / }).click();
    await pa.getByRole("button", { name: "Yes, cancel it" }).click();
    await expect(pa.getByRole("status")).toHaveText(/Cancelled/);
    const mail = (await waitForMail(waiter, "A time came free")).find((m) => m.subject?.startsWith("A time came free"))!;
    expect(mail.subject).toContain("Head and shoulder massage");
    expect(mail.text).toContain("holding it for you until");
    expect(mail.text).toMatch(/\/holds\/\d+/);

    await pb.goto("/bookings");
    await expect(waitlist.getByText(/A time came free: .* held for you until/)).toBeVisible();
    await waitlist.getByRole("link", { name: "Confirm the time held for you" }).click();
    await confirmHold(pb);
    await expect(pb.getByRole("article", { name: new RegExp(`Head and shoulder massage — .*${time}`) })).toBeVisible();
    await expect(waitlist.getByText("Booked from the waitlist.")).toBeVisible();
    await Promise.all([a.close(), b.close()]);
  });
}
