#include "server/chat_store_sqlite.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <set>

namespace tidewire::server {

namespace {

constexpr const char* kMessageColumns = "id, room_id, sender_id, text, created_at, edited_at, client_id";

void read_message(const SqliteStatement& st, ChatMessage& m) {
  m.id = st.int64(0);
  m.room_id = st.int64(1);
  m.sender_id = st.text(2);
  m.text = st.text(3);
  m.created_at = st.int64(4);
  m.edited_at = st.is_null(5) ? std::nullopt : std::optional<std::int64_t>(st.int64(5));
  m.client_id = st.is_null(6) ? std::string() : st.text(6);
  m.reactions.clear();
  m.reacted_by.clear();
}

}  // namespace

std::string_view SqliteChatStore::schema_v1() {
  // Members stay as rows after leaving (active = 0): that row is the invitation to rejoin a private room.
  // dm_key ("a\nb", sorted) makes the DM of a pair unique. The partial unique index dedupes client ids.
  return R"sql(
CREATE TABLE chat_rooms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL, kind TEXT NOT NULL, visibility TEXT NOT NULL,
  created_by TEXT NOT NULL, created_at INTEGER NOT NULL, dm_key TEXT UNIQUE);
CREATE TABLE chat_members (
  room_id INTEGER NOT NULL REFERENCES chat_rooms(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL, active INTEGER NOT NULL, joined_at INTEGER NOT NULL,
  last_read_id INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id)) WITHOUT ROWID;
CREATE INDEX chat_members_by_user ON chat_members(user_id, active);
CREATE TABLE chat_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id INTEGER NOT NULL REFERENCES chat_rooms(id) ON DELETE CASCADE,
  sender_id TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL, edited_at INTEGER, client_id TEXT);
CREATE INDEX chat_messages_by_room ON chat_messages(room_id, id);
CREATE UNIQUE INDEX chat_messages_client_id ON chat_messages(room_id, sender_id, client_id)
  WHERE client_id IS NOT NULL;
CREATE TABLE chat_reactions (
  message_id INTEGER NOT NULL REFERENCES chat_messages(id) ON DELETE CASCADE,
  emoji TEXT NOT NULL, user_id TEXT NOT NULL,
  PRIMARY KEY (message_id, emoji, user_id)) WITHOUT ROWID;
)sql";
}

bool SqliteChatStore::add_member(std::int64_t room_id, std::string_view user, std::int64_t now) {
  SqliteStatement st = db_.prepare(
      "INSERT INTO chat_members (room_id, user_id, active, joined_at) VALUES (?1, ?2, 1, ?3) "
      "ON CONFLICT (room_id, user_id) DO UPDATE SET active = 1, "
      "joined_at = CASE WHEN active = 1 THEN joined_at ELSE excluded.joined_at END");
  st.bind(1, room_id).bind(2, user).bind(3, now);
  return st.run();
}

std::optional<ChatRoom> SqliteChatStore::create_room(std::string_view name, std::string_view visibility,
                                               std::string_view creator, const std::vector<std::string>& participants,
                                               std::int64_t now) {
  SqliteTransaction tx(db_);
  if (!tx.ok()) return std::nullopt;
  SqliteStatement st = db_.prepare(
      "INSERT INTO chat_rooms (name, kind, visibility, created_by, created_at) VALUES (?1, 'room', ?2, ?3, ?4)");
  st.bind(1, name).bind(2, visibility).bind(3, creator).bind(4, now);
  if (!st.run()) return std::nullopt;
  const std::int64_t id = db_.last_insert_rowid();
  std::set<std::string, std::less<>> everyone(participants.begin(), participants.end());
  everyone.emplace(creator);
  for (const std::string& user : everyone)
    if (!add_member(id, user, now)) return std::nullopt;
  if (!tx.commit()) return std::nullopt;
  ChatRoom room;
  bool found = false;
  if (!load_room(id, room, found)) return std::nullopt;
  return room;
}

std::optional<ChatRoom> SqliteChatStore::open_dm(std::string_view a, std::string_view b, std::int64_t now) {
  const std::string lo(std::min(a, b)), hi(std::max(a, b));
  const std::string key = lo + "\n" + hi;  // unambiguous: the service refuses user ids with control characters
  SqliteTransaction tx(db_);
  if (!tx.ok()) return std::nullopt;
  SqliteStatement find = db_.prepare("SELECT id FROM chat_rooms WHERE dm_key = ?1");
  find.bind(1, key);
  std::int64_t id = 0;
  const int rc = find.step();
  if (rc == SQLITE_ROW) {
    id = find.int64(0);
  } else if (rc == SQLITE_DONE) {
    SqliteStatement ins = db_.prepare(
        "INSERT INTO chat_rooms (name, kind, visibility, created_by, created_at, dm_key) "
        "VALUES (?1, 'dm', 'private', ?2, ?3, ?4)");
    ins.bind(1, lo + ", " + hi).bind(2, a).bind(3, now).bind(4, key);
    if (!ins.run()) return std::nullopt;
    id = db_.last_insert_rowid();
  } else {
    return std::nullopt;
  }
  if (!add_member(id, lo, now) || !add_member(id, hi, now) || !tx.commit()) return std::nullopt;
  ChatRoom room;
  bool found = false;
  if (!load_room(id, room, found)) return std::nullopt;
  return room;
}

bool SqliteChatStore::load_room(std::int64_t room_id, ChatRoom& out, bool& found) {
  found = false;
  SqliteStatement st =
      db_.prepare("SELECT id, name, kind, visibility, created_by, created_at FROM chat_rooms WHERE id = ?1");
  st.bind(1, room_id);
  const int rc = st.step();
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) {
    found = true;  // exists or not, the caller must report a db error
    return false;
  }
  found = true;
  out.id = st.int64(0);
  out.name = st.text(1);
  out.kind = st.text(2);
  out.visibility = st.text(3);
  out.created_by = st.text(4);
  out.created_at = st.int64(5);
  return load_participants(out);
}

bool SqliteChatStore::load_participants(ChatRoom& room) {
  room.participants.clear();
  SqliteStatement st =
      db_.prepare("SELECT user_id FROM chat_members WHERE room_id = ?1 AND active = 1 ORDER BY user_id");
  st.bind(1, room.id);
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) room.participants.push_back(st.text(0));
  return rc == SQLITE_DONE;
}

Membership SqliteChatStore::membership(std::int64_t room_id, std::string_view user) {
  SqliteStatement st = db_.prepare(
      "SELECT r.id, m.active FROM chat_rooms r LEFT JOIN chat_members m ON m.room_id = r.id AND m.user_id = ?2 "
      "WHERE r.id = ?1");
  st.bind(1, room_id).bind(2, user);
  const int rc = st.step();
  if (rc == SQLITE_DONE) return Membership::kNoRoom;
  if (rc != SQLITE_ROW) return Membership::kError;
  if (st.is_null(1)) return Membership::kNone;
  return st.int64(1) ? Membership::kActive : Membership::kInvited;
}

bool SqliteChatStore::join(std::int64_t room_id, std::string_view user, std::int64_t now, bool& changed) {
  changed = membership(room_id, user) != Membership::kActive;
  return add_member(room_id, user, now);
}

bool SqliteChatStore::leave(std::int64_t room_id, std::string_view user, bool& changed) {
  SqliteStatement st =
      db_.prepare("UPDATE chat_members SET active = 0 WHERE room_id = ?1 AND user_id = ?2 AND active = 1");
  st.bind(1, room_id).bind(2, user);
  if (!st.run()) return false;
  changed = db_.changes() > 0;
  return true;
}

bool SqliteChatStore::list_rooms(std::string_view user, std::vector<ChatRoomSummary>& out) {
  out.clear();
  SqliteStatement st = db_.prepare(
      "SELECT m.room_id, (SELECT MAX(id) FROM chat_messages WHERE room_id = m.room_id) AS last "
      "FROM chat_members m WHERE m.user_id = ?1 AND m.active = 1 ORDER BY last IS NULL, last DESC, m.room_id DESC");
  st.bind(1, user);
  std::vector<std::int64_t> rooms;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) rooms.push_back(st.int64(0));
  if (rc != SQLITE_DONE) return false;
  for (const std::int64_t room_id : rooms) {
    ChatRoomSummary s;
    bool found = false;
    if (!room_summary(room_id, user, s, found)) return false;
    out.push_back(std::move(s));
  }
  return true;
}

bool SqliteChatStore::last_message_id(std::int64_t room_id, std::optional<std::int64_t>& out) {
  SqliteStatement st = db_.prepare("SELECT MAX(id) FROM chat_messages WHERE room_id = ?1");
  st.bind(1, room_id);
  if (st.step() != SQLITE_ROW) return false;
  out = st.is_null(0) ? std::nullopt : std::optional<std::int64_t>(st.int64(0));
  return true;
}

bool SqliteChatStore::room_summary(std::int64_t room_id, std::string_view user, ChatRoomSummary& out, bool& found) {
  out = ChatRoomSummary{};
  if (!load_room(room_id, out.room, found)) return false;
  std::optional<std::int64_t> last;
  if (!last_message_id(room_id, last)) return false;
  if (last) {
    ChatMessage m;
    if (!load_message(room_id, *last, m, found)) {
      found = true;  // the room exists: whatever failed is a db error
      return false;
    }
    out.last_message = std::move(m);
  }
  return unread_count(room_id, user, out.unread_count);
}

bool SqliteChatStore::history_after(std::int64_t room_id, std::int64_t after, int limit, std::vector<ChatMessage>& out,
                              bool& has_more) {
  SqliteStatement st = db_.prepare(std::string("SELECT ") + kMessageColumns +
                                   " FROM chat_messages WHERE room_id = ?1 AND id > ?2 ORDER BY id ASC LIMIT ?3");
  st.bind(1, room_id).bind(2, after).bind(3, static_cast<std::int64_t>(limit) + 1);
  return read_page(st, limit, out, has_more);
}

bool SqliteChatStore::delete_room(std::int64_t room_id) {
  SqliteTransaction tx(db_);
  if (!tx.ok()) return false;
  static constexpr const char* kDeletes[] = {
      "DELETE FROM chat_reactions WHERE message_id IN (SELECT id FROM chat_messages WHERE room_id = ?1)",
      "DELETE FROM chat_messages WHERE room_id = ?1",
      "DELETE FROM chat_members WHERE room_id = ?1",
      "DELETE FROM chat_rooms WHERE id = ?1",
  };
  for (const char* sql : kDeletes) {
    SqliteStatement st = db_.prepare(sql);
    st.bind(1, room_id);
    if (!st.run()) return false;
  }
  return tx.commit();
}

bool SqliteChatStore::history(std::int64_t room_id, std::optional<std::int64_t> before, int limit,
                        std::vector<ChatMessage>& out, bool& has_more) {
  SqliteStatement st = db_.prepare(std::string("SELECT ") + kMessageColumns +
                                   " FROM chat_messages WHERE room_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3");
  st.bind(1, room_id).bind(2, before.value_or(INT64_MAX)).bind(3, static_cast<std::int64_t>(limit) + 1);
  if (!read_page(st, limit, out, has_more)) return false;
  std::reverse(out.begin(), out.end());  // newest first from the query, oldest first in the answer
  return true;
}

bool SqliteChatStore::read_page(SqliteStatement& st, int limit, std::vector<ChatMessage>& out, bool& has_more) {
  out.clear();
  has_more = false;
  // The query asks for one row more than `limit`: its presence tells whether the page has a next one.
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    if (static_cast<int>(out.size()) == limit) {
      has_more = true;
      continue;
    }
    ChatMessage m;
    read_message(st, m);
    out.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE) return false;
  for (ChatMessage& m : out)
    if (!load_reactions(m)) return false;
  return true;
}

bool SqliteChatStore::load_reactions(ChatMessage& message) {
  message.reactions.clear();
  message.reacted_by.clear();
  SqliteStatement st =
      db_.prepare("SELECT emoji, user_id FROM chat_reactions WHERE message_id = ?1 ORDER BY emoji, user_id");
  st.bind(1, message.id);
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    std::vector<std::string>& users = message.reacted_by[st.text(0)];
    users.push_back(st.text(1));
    message.reactions[st.text(0)] = static_cast<std::int64_t>(users.size());
  }
  return rc == SQLITE_DONE;
}

bool SqliteChatStore::send(std::int64_t room_id, std::string_view sender, std::string_view text,
                     std::optional<std::string_view> client_id, std::int64_t now, ChatMessage& out, bool& duplicate) {
  duplicate = false;
  if (client_id) {
    SqliteStatement find = db_.prepare(std::string("SELECT ") + kMessageColumns +
                                       " FROM chat_messages WHERE room_id = ?1 AND sender_id = ?2 AND client_id = ?3");
    find.bind(1, room_id).bind(2, sender).bind(3, *client_id);
    const int rc = find.step();
    if (rc == SQLITE_ROW) {
      read_message(find, out);
      duplicate = true;
      return load_reactions(out);
    }
    if (rc != SQLITE_DONE) return false;
  }
  SqliteStatement ins = db_.prepare(
      "INSERT INTO chat_messages (room_id, sender_id, text, created_at, client_id) VALUES (?1, ?2, ?3, ?4, ?5)");
  ins.bind(1, room_id).bind(2, sender).bind(3, text).bind(4, now);
  if (client_id) ins.bind(5, *client_id);
  else ins.bind_null(5);
  if (!ins.run()) return false;
  out = ChatMessage{};
  out.id = db_.last_insert_rowid();
  out.room_id = room_id;
  out.sender_id = std::string(sender);
  out.text = std::string(text);
  out.created_at = now;
  if (client_id) out.client_id = std::string(*client_id);
  return true;
}

bool SqliteChatStore::load_message(std::int64_t room_id, std::int64_t message_id, ChatMessage& out, bool& found) {
  found = false;
  SqliteStatement st = db_.prepare(std::string("SELECT ") + kMessageColumns +
                                   " FROM chat_messages WHERE id = ?1 AND room_id = ?2");
  st.bind(1, message_id).bind(2, room_id);
  const int rc = st.step();
  if (rc == SQLITE_DONE) return false;
  found = true;
  if (rc != SQLITE_ROW) return false;
  read_message(st, out);
  return load_reactions(out);
}

bool SqliteChatStore::edit(std::int64_t message_id, std::string_view text, std::int64_t now) {
  SqliteStatement st = db_.prepare("UPDATE chat_messages SET text = ?2, edited_at = ?3 WHERE id = ?1");
  st.bind(1, message_id).bind(2, text).bind(3, now);
  return st.run();
}

bool SqliteChatStore::react(std::int64_t message_id, std::string_view user, std::string_view emoji, bool add,
                      std::int64_t& count, bool& changed) {
  SqliteStatement change = db_.prepare(
      add ? "INSERT OR IGNORE INTO chat_reactions (message_id, emoji, user_id) VALUES (?1, ?2, ?3)"
          : "DELETE FROM chat_reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3");
  change.bind(1, message_id).bind(2, emoji).bind(3, user);
  if (!change.run()) return false;
  changed = db_.changes() > 0;
  SqliteStatement st = db_.prepare("SELECT COUNT(*) FROM chat_reactions WHERE message_id = ?1 AND emoji = ?2");
  st.bind(1, message_id).bind(2, emoji);
  if (st.step() != SQLITE_ROW) return false;
  count = st.int64(0);
  return true;
}

bool SqliteChatStore::mark_read(std::int64_t room_id, std::string_view user, std::int64_t message_id,
                          std::int64_t& unread, bool& moved) {
  SqliteStatement st = db_.prepare(
      "UPDATE chat_members SET last_read_id = ?3 WHERE room_id = ?1 AND user_id = ?2 AND last_read_id < ?3");
  st.bind(1, room_id).bind(2, user).bind(3, message_id);
  if (!st.run()) return false;
  moved = db_.changes() > 0;
  return unread_count(room_id, user, unread);
}

bool SqliteChatStore::unread_count(std::int64_t room_id, std::string_view user, std::int64_t& unread) {
  SqliteStatement st = db_.prepare(
      "SELECT COUNT(*) FROM chat_messages c JOIN chat_members m ON m.room_id = c.room_id AND m.user_id = ?2 "
      "WHERE c.room_id = ?1 AND c.id > m.last_read_id AND c.sender_id != ?2");
  st.bind(1, room_id).bind(2, user);
  if (st.step() != SQLITE_ROW) return false;
  unread = st.int64(0);
  return true;
}

}  // namespace tidewire::server
