// A list of views that snapshots share: each entry is held by a shared pointer, so a snapshot that
// the engine builds after a few events reuses every queue and agent view that did not change (a
// pointer copy, not a copy of the view), and a reader tells an unchanged entry by its address.
//
// It reads like a std::vector<T>. Writing through it (operator[], back(), a non-const iterator)
// first gives the list its own copy of that one entry when another snapshot shares it, so a
// snapshot someone else holds never changes under them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

namespace callwatch::metrics {

template <typename T>
class SharedList {
 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using Ptr = std::shared_ptr<T>;

  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;
    const_iterator() = default;
    explicit const_iterator(typename std::vector<Ptr>::const_iterator it) : it_(it) {}
    reference operator*() const { return **it_; }
    pointer operator->() const { return it_->get(); }
    reference operator[](difference_type n) const { return *it_[n]; }
    const_iterator& operator++() { ++it_; return *this; }
    const_iterator operator++(int) { auto t = *this; ++it_; return t; }
    const_iterator& operator--() { --it_; return *this; }
    const_iterator operator--(int) { auto t = *this; --it_; return t; }
    const_iterator& operator+=(difference_type n) { it_ += n; return *this; }
    const_iterator& operator-=(difference_type n) { it_ -= n; return *this; }
    friend const_iterator operator+(const_iterator a, difference_type n) { return a += n; }
    friend const_iterator operator+(difference_type n, const_iterator a) { return a += n; }
    friend const_iterator operator-(const_iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) { return a.it_ - b.it_; }
    friend auto operator<=>(const const_iterator&, const const_iterator&) = default;
    friend bool operator==(const const_iterator&, const const_iterator&) = default;
    typename std::vector<Ptr>::const_iterator base() const { return it_; }

   private:
    typename std::vector<Ptr>::const_iterator it_{};
  };

  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = T*;
    using reference = T&;
    iterator() = default;
    iterator(SharedList* list, difference_type i) : list_(list), i_(i) {}
    reference operator*() const { return list_->own(static_cast<size_type>(i_)); }
    pointer operator->() const { return &**this; }
    reference operator[](difference_type n) const { return *(*this + n); }
    iterator& operator++() { ++i_; return *this; }
    iterator operator++(int) { auto t = *this; ++i_; return t; }
    iterator& operator--() { --i_; return *this; }
    iterator operator--(int) { auto t = *this; --i_; return t; }
    iterator& operator+=(difference_type n) { i_ += n; return *this; }
    iterator& operator-=(difference_type n) { i_ -= n; return *this; }
    friend iterator operator+(iterator a, difference_type n) { return a += n; }
    friend iterator operator+(difference_type n, iterator a) { return a += n; }
    friend iterator operator-(iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const iterator& a, const iterator& b) { return a.i_ - b.i_; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.i_ == b.i_; }
    friend auto operator<=>(const iterator& a, const iterator& b) { return a.i_ <=> b.i_; }
    operator const_iterator() const { return list_->cbegin() + i_; }
    difference_type index() const { return i_; }

   private:
    SharedList* list_ = nullptr;
    difference_type i_ = 0;
  };

  SharedList() = default;
  SharedList(std::initializer_list<T> init) {
    items_.reserve(init.size());
    for (const T& v : init) push_back(v);
  }
  template <typename It>
  SharedList(It first, It last) {
    for (; first != last; ++first) push_back(*first);
  }

  size_type size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void reserve(size_type n) { items_.reserve(n); }
  void clear() { items_.clear(); }

  const T& operator[](size_type i) const { return *items_[i]; }
  T& operator[](size_type i) { return own(i); }
  const T& at(size_type i) const { return *items_.at(i); }
  const T& front() const { return *items_.front(); }
  const T& back() const { return *items_.back(); }
  T& front() { return own(0); }
  T& back() { return own(items_.size() - 1); }

  const_iterator begin() const { return const_iterator(items_.cbegin()); }
  const_iterator end() const { return const_iterator(items_.cend()); }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }
  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, static_cast<difference_type>(items_.size())); }

  void push_back(T v) { items_.push_back(std::make_shared<T>(std::move(v))); }
  template <typename... A>
  T& emplace_back(A&&... a) {
    items_.push_back(std::make_shared<T>(std::forward<A>(a)...));
    return *items_.back();
  }
  iterator insert(const_iterator pos, T v) {
    const auto i = pos - cbegin();
    items_.insert(items_.begin() + i, std::make_shared<T>(std::move(v)));
    return iterator(this, i);
  }
  iterator erase(const_iterator pos) {
    const auto i = pos - cbegin();
    items_.erase(items_.begin() + i);
    return iterator(this, i);
  }
  iterator erase(const_iterator first, const_iterator last) {
    const auto i = first - cbegin();
    items_.erase(items_.begin() + i, items_.begin() + (last - cbegin()));
    return iterator(this, i);
  }

  // Sharing: the entry as the list holds it (to put in another snapshot unchanged), and an entry
  // put in as it is. Readers tell an entry another snapshot also holds by its address.
  const Ptr& shared(size_type i) const { return items_[i]; }
  void push_shared(Ptr p) { items_.push_back(std::move(p)); }
  const T* address(size_type i) const { return items_[i].get(); }

  // Whole-list edits that move entries, not views (no entry is copied).
  void replace(size_type i, T v) { items_[i] = std::make_shared<T>(std::move(v)); }
  template <typename Less>
  void sort(Less less) {
    std::sort(items_.begin(), items_.end(), [&](const Ptr& a, const Ptr& b) { return less(*a, *b); });
  }
  // Entries from `mid` on sorted, then merged with the sorted ones before them.
  template <typename Less>
  void sort_tail_and_merge(size_type mid, Less less) {
    const auto cmp = [&](const Ptr& a, const Ptr& b) { return less(*a, *b); };
    const auto m = items_.begin() + static_cast<difference_type>(mid);
    std::sort(m, items_.end(), cmp);
    std::inplace_merge(items_.begin(), m, items_.end(), cmp);
  }
  template <typename Pred>
  size_type erase_if(Pred pred) {
    return std::erase_if(items_, [&](const Ptr& p) { return pred(static_cast<const T&>(*p)); });
  }

  bool operator==(const SharedList& o) const
    requires requires(const T& a) { a == a; }
  {
    if (items_.size() != o.items_.size()) return false;
    for (size_type i = 0; i < items_.size(); ++i) {
      if (items_[i] != o.items_[i] && !(*items_[i] == *o.items_[i])) return false;
    }
    return true;
  }

 private:
  // The entry, this list's own (copied first when another list shares it).
  T& own(size_type i) {
    Ptr& p = items_[i];
    if (p.use_count() > 1) p = std::make_shared<T>(*p);
    return *p;
  }
  std::vector<Ptr> items_;
};

}  // namespace callwatch::metrics
