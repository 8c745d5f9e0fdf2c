// A vector that copies are made of often and written to seldom: a copy shares the elements, and
// the first write to a shared one gives it its own. The engine's data quality carries up to
// 1,000 warning texts; every snapshot (50 a second live) copies it, and now copies a pointer.
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

namespace callwatch::metrics {

template <typename T>
class CowVector {
 public:
  using value_type = T;
  using size_type = std::size_t;
  using const_iterator = typename std::vector<T>::const_iterator;

  CowVector() = default;
  CowVector(std::initializer_list<T> init) : v_(std::make_shared<std::vector<T>>(init)) {}
  CowVector(std::vector<T> v) : v_(std::make_shared<std::vector<T>>(std::move(v))) {}  // NOLINT

  const_iterator begin() const { return items().begin(); }
  const_iterator end() const { return items().end(); }
  size_type size() const { return v_ ? v_->size() : 0; }
  bool empty() const { return size() == 0; }
  const T& operator[](size_type i) const { return (*v_)[i]; }
  const T& back() const { return v_->back(); }
  const std::vector<T>& items() const {
    static const std::vector<T> kNone;
    return v_ ? *v_ : kNone;
  }

  void push_back(T x) { own().push_back(std::move(x)); }
  void clear() { v_.reset(); }

  friend bool operator==(const CowVector& a, const CowVector& b) {
    return a.v_ == b.v_ || a.items() == b.items();
  }
  friend bool operator==(const CowVector& a, const std::vector<T>& b) { return a.items() == b; }

 private:
  std::vector<T>& own() {
    if (!v_) v_ = std::make_shared<std::vector<T>>();
    else if (v_.use_count() > 1) v_ = std::make_shared<std::vector<T>>(*v_);
    return *v_;
  }
  std::shared_ptr<std::vector<T>> v_;
};

}  // namespace callwatch::metrics
