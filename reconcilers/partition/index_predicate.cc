#include "reconcilers/partition/index_predicate.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

#include "reconcilers/document/field_reader.h"
#include "reconcilers/partition/sql_text.h"

namespace partop {
namespace {

struct Token {
  enum class Kind { kColumn, kKeyword, kLiteral, kOperator, kOpen, kClose, kEnd };
  Kind kind;
  std::string text;  // column: its name; keyword: upper case; literal/operator: as rendered
  size_t position;   // 1-based, for messages
};

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

class PredicateParser {
 public:
  explicit PredicateParser(const std::string& text) : text_(text) {}

  std::optional<IndexPredicate> parse(std::string& error) {
    try {
      tokenize();
      IndexPredicate predicate;
      predicate.sql = or_expression();
      if (peek().kind != Token::Kind::kEnd) fail(peek(), "unexpected");
      predicate.columns = columns_;
      return predicate;
    } catch (const std::string& message) {
      error = message;
      return std::nullopt;
    }
  }

 private:
  [[noreturn]] void fail(const Token& token, const std::string& what) const {
    const std::string shown =
        token.kind == Token::Kind::kEnd ? "end of text" : "'" + token.text + "'";
    throw what + " " + shown + " at position " + std::to_string(token.position) +
        "; a partial index predicate may use columns, literals, comparisons, IS [NOT] NULL, AND, "
        "OR, NOT and parentheses";
  }

  void tokenize() {
    static const std::set<std::string> kKeywords = {"AND",  "OR",   "NOT",  "IS",
                                                    "NULL", "TRUE", "FALSE"};
    size_t i = 0;
    auto is_word = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
    };
    while (i < text_.size()) {
      const char c = text_[i];
      const size_t start = i;
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (i < text_.size() && is_word(text_[i])) ++i;
        const std::string word = text_.substr(start, i - start);
        if (kKeywords.count(upper(word))) {
          tokens_.push_back({Token::Kind::kKeyword, upper(word), start + 1});
        } else {
          column(word, start);
        }
      } else if (c == '"') {
        std::string name;
        for (++i;; ++i) {
          if (i >= text_.size())
            throw std::string("unterminated quoted name at position " + std::to_string(start + 1));
          if (text_[i] == '"') {
            if (i + 1 < text_.size() && text_[i + 1] == '"') {
              name += '"';
              ++i;
              continue;
            }
            ++i;
            break;
          }
          name += text_[i];
        }
        column(name, start);
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '-' && i + 1 < text_.size() &&
                  std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
        ++i;
        while (i < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i]))) ++i;
        if (i + 1 < text_.size() && text_[i] == '.' &&
            std::isdigit(static_cast<unsigned char>(text_[i + 1]))) {
          ++i;
          while (i < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i]))) ++i;
        }
        tokens_.push_back({Token::Kind::kLiteral, text_.substr(start, i - start), start + 1});
      } else if (c == '\'') {
        std::string value;
        for (++i;; ++i) {
          if (i >= text_.size())
            throw std::string("unterminated string at position " + std::to_string(start + 1));
          if (text_[i] == '\'') {
            if (i + 1 < text_.size() && text_[i + 1] == '\'') {
              value += '\'';
              ++i;
              continue;
            }
            ++i;
            break;
          }
          value += text_[i];
        }
        tokens_.push_back({Token::Kind::kLiteral, sql::literal(value), start + 1});
      } else if (c == '(' || c == ')') {
        ++i;
        tokens_.push_back(
            {c == '(' ? Token::Kind::kOpen : Token::Kind::kClose, std::string(1, c), start + 1});
      } else if (c == '=' || c == '<' || c == '>' || c == '!') {
        ++i;
        if (i < text_.size() && (text_[i] == '=' || (c == '<' && text_[i] == '>'))) ++i;
        std::string op = text_.substr(start, i - start);
        if (op == "!") fail({Token::Kind::kOperator, op, start + 1}, "unexpected");
        if (op == "!=") op = "<>";
        tokens_.push_back({Token::Kind::kOperator, op, start + 1});
      } else {
        fail({Token::Kind::kOperator, std::string(1, c), start + 1}, "unexpected");
      }
    }
    tokens_.push_back({Token::Kind::kEnd, "", text_.size() + 1});
  }

  void column(const std::string& name, size_t start) {
    if (!is_valid_identifier(name)) {
      throw std::string("column name '" + name + "' at position " + std::to_string(start + 1) +
                        " is not a valid identifier");
    }
    tokens_.push_back({Token::Kind::kColumn, name, start + 1});
    if (std::find(columns_.begin(), columns_.end(), name) == columns_.end())
      columns_.push_back(name);
  }

  const Token& peek() const { return tokens_[next_]; }
  const Token& take() { return tokens_[next_++]; }
  bool keyword(const char* word) {
    if (peek().kind != Token::Kind::kKeyword || peek().text != word) return false;
    ++next_;
    return true;
  }

  std::string or_expression() {
    std::string out = and_expression();
    while (keyword("OR")) {
      out += " OR ";
      out += and_expression();
    }
    return out;
  }

  std::string and_expression() {
    std::string out = not_expression();
    while (keyword("AND")) {
      out += " AND ";
      out += not_expression();
    }
    return out;
  }

  std::string not_expression() {
    if (keyword("NOT")) return "NOT " + not_expression();
    std::string out = operand();
    if (peek().kind == Token::Kind::kOperator) {
      out += " " + take().text + " ";
      out += operand();
    } else if (keyword("IS")) {
      out += " IS ";
      if (keyword("NOT")) out += "NOT ";
      const Token& value = take();
      if (value.kind != Token::Kind::kKeyword ||
          (value.text != "NULL" && value.text != "TRUE" && value.text != "FALSE")) {
        fail(value, "expected NULL, TRUE or FALSE after IS, got");
      }
      out += value.text;
    }
    return out;
  }

  std::string operand() {
    const Token& token = take();
    switch (token.kind) {
      case Token::Kind::kOpen: {
        std::string inner = or_expression();
        if (peek().kind != Token::Kind::kClose) fail(peek(), "expected ')', got");
        ++next_;
        return "(" + inner + ")";
      }
      case Token::Kind::kColumn:
        return sql::identifier(token.text);
      case Token::Kind::kLiteral:
        return token.text;
      case Token::Kind::kKeyword:
        if (token.text == "NULL" || token.text == "TRUE" || token.text == "FALSE")
          return token.text;
        break;
      default:
        break;
    }
    fail(token, "unexpected");
  }

  const std::string& text_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
  std::vector<std::string> columns_;
};

}  // namespace

std::optional<IndexPredicate> parse_index_predicate(const std::string& text, std::string& error) {
  return PredicateParser(text).parse(error);
}

std::string comparable_predicate(const std::string& sql) {
  static const std::vector<std::string> kTypeTails = {" with time zone", " without time zone",
                                                      " varying", " precision"};
  std::string out;
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'') {  // a literal, copied as written
      const size_t start = i;
      for (++i; i < sql.size(); ++i) {
        if (sql[i] == '\'' && (i + 1 >= sql.size() || sql[i + 1] != '\'')) break;
        if (sql[i] == '\'') ++i;
      }
      ++i;
      std::string literal = sql.substr(start, i - start);
      // PostgreSQL prints a negative number as '-1'::integer.
      static const std::regex kQuotedNumber(R"('(-?[0-9]+(\.[0-9]+)?)')");
      std::smatch number;
      if (std::regex_match(literal, number, kQuotedNumber)) literal = number[1];
      out += literal;
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {  // a cast: dropped
      i += 2;
      while (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' ||
                                sql[i] == '"' || sql[i] == '[' || sql[i] == ']' || sql[i] == ' ')) {
        const auto tail =
            std::find_if(kTypeTails.begin(), kTypeTails.end(),
                         [&](const std::string& t) { return sql.compare(i, t.size(), t) == 0; });
        if (sql[i] == ' ' && tail == kTypeTails.end()) break;
        i += sql[i] == ' ' ? tail->size() : 1;
      }
    } else if (std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == '"') {
      ++i;
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ++i;
    }
  }
  return out;
}

bool declared_index_matches(const ObservedParentIndex& observed, const IndexSpec& wanted) {
  return observed.columns == wanted.columns && observed.include == wanted.include &&
         observed.unique == wanted.unique && observed.method == wanted.method &&
         comparable_predicate(observed.predicate) == comparable_predicate(wanted.where);
}

}  // namespace partop
