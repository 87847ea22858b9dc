/**
 * In-room moderator tools: slow mode, followers-only, clear chat, and per-message
 * delete / time out / ban buttons on the room page's chat list.
 *
 * The room page mounts it for moderators with the page's socket:
 *   mountModerationTools(root, socket)
 * where root is the `[data-moderation-tools]` section of moderation/room_tools.html or
 * the `.room-layout` holding it, `socket.send(frame)` sends a client frame and
 * `socket.on(type, handler)` subscribes to server frames. Every action is a `mod.*` frame (docs/protocol.md); the server
 * answers `mod.done` or an `error`, and room-wide changes come back to every viewer
 * as `chat.slow_mode`, `chat.followers_only` and `chat.delete`.
 *
 * Per-message buttons are added lazily (when the pointer or focus reaches a message)
 * through event delegation on the chat list, so the chat renderer needs to know
 * nothing about them: each message element carries data-message-id and data-user-id.
 *
 * Importing this module also starts the room's review queue (room-queue.js).
 */

import "./room-queue.js";

const CONFIRM_MS = 3000;

export function mountModerationTools(where, socket) {
  const root = where.closest('[data-moderation-tools]') || where.querySelector('[data-moderation-tools]');
  if (!root) return; // the page did not include moderation/room_tools.html
  const list = root.closest('.room-layout')?.querySelector('[data-chat-list]');
  const status = root.querySelector('[data-mod-status]');
  const slow = root.querySelector('[data-mod-slow]');
  const followersOnly = root.querySelector('[data-mod-followers-only]');
  const clear = root.querySelector('[data-mod-clear]');
  const messageTools = root.querySelector('template[data-mod-message-tools]');
  let waiting = 0; // mod frames sent and not yet answered: their errors are ours to show

  const say = (text) => { status.textContent = text; };
  const send = (frame) => { waiting += 1; socket.send(frame); };

  // A dangerous button asks once more: the first click arms it, a second within
  // CONFIRM_MS acts. (No window.confirm: the tools stay inside the page.)
  const confirmed = (button) => {
    if (!button.dataset.confirm) return true;
    if (button.dataset.armed) {
      delete button.dataset.armed;
      button.textContent = button.dataset.label;
      return true;
    }
    button.dataset.label = button.textContent;
    button.dataset.armed = '1';
    button.textContent = button.dataset.confirm;
    setTimeout(() => {
      if (!button.dataset.armed) return;
      delete button.dataset.armed;
      button.textContent = button.dataset.label;
    }, CONFIRM_MS);
    return false;
  };

  slow.addEventListener('change', () => send({ type: 'mod.slow', seconds: Number(slow.value) }));
  followersOnly.addEventListener('click', () => {
    const on = followersOnly.getAttribute('aria-pressed') !== 'true';
    send({ type: 'mod.followers_only', on });
  });
  clear.addEventListener('click', () => {
    if (confirmed(clear)) send({ type: 'mod.clear' });
  });

  if (list) {
    const addTools = (event) => {
      const message = event.target.closest?.('[data-message-id]');
      if (!message || !list.contains(message) || message.querySelector('.mod-message-tools')) return;
      message.append(messageTools.content.cloneNode(true));
    };
    list.addEventListener('pointerover', addTools);
    list.addEventListener('focusin', addTools);
    list.addEventListener('click', (event) => {
      const button = event.target.closest('[data-mod-action]');
      const message = button?.closest('[data-message-id]');
      if (!button || !message || !confirmed(button)) return;
      const userId = Number(message.dataset.userId);
      const action = button.dataset.modAction;
      if (action === 'delete') send({ type: 'mod.delete', id: message.dataset.messageId });
      if (action === 'timeout') {
        send({ type: 'mod.timeout', user_id: userId, minutes: Number(button.dataset.minutes) });
      }
      if (action === 'ban') send({ type: 'mod.ban', user_id: userId });
    });
  }

  const DONE = {
    delete: () => 'Message deleted.',
    timeout: (frame) => `Timed out for ${frame.minutes} minutes.`,
    ban: () => 'Banned from the room.',
    unban: () => 'Ban or timeout lifted.',
    slow: (frame) => (frame.seconds ? `Slow mode: ${frame.seconds} s.` : 'Slow mode off.'),
    clear: () => 'Chat cleared.',
    followers_only: (frame) => (frame.on ? 'Followers-only chat on.' : 'Followers-only chat off.'),
  };
  socket.on('mod.done', (frame) => {
    waiting = Math.max(0, waiting - 1);
    say((DONE[frame.action] || (() => 'Done.'))(frame));
  });
  socket.on('error', (frame) => {
    if (!waiting) return; // a chat error, shown by the chat itself
    waiting -= 1;
    say(frame.message);
  });
  socket.on('chat.slow_mode', (frame) => {
    const value = String(frame.seconds);
    if (![...slow.options].some((option) => option.value === value)) {
      slow.add(new Option(`${frame.seconds} s`, value));
    }
    slow.value = value;
  });
  socket.on('chat.followers_only', (frame) => {
    followersOnly.setAttribute('aria-pressed', String(Boolean(frame.on)));
  });
}
